"""`portal create-client`, `create-user`, `invite` and `rotate-keys`: the real command line in a
child process, on SQLite and PostgreSQL. A client's secret is printed once and only its hash is
stored; every mistake ends with one clear line and a non-zero exit status."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from portal.db import tables as t
from portal.db.database import Database
from portal.domain.credentials import digest as secret_digest

FAILED = 1
USAGE = 2


def portal(*args: str, database_url: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env |= {"PORTAL_DATABASE_URL": database_url}
    env |= {f"PORTAL_{name.upper()}": value for name, value in settings.items()}
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def field(output: str, name: str) -> str:
    found = re.search(rf"^{name}: (\S+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


async def add_organisations() -> None:
    await t.Organisation.insert(
        t.Organisation(code="ACME", name="Acme Trading", kind="internal"),
        t.Organisation(code="SUP1", name="Northwind Fasteners", kind="supplier"),
    ).run()


async def test_create_client_prints_the_secret_once_and_stores_its_hash(
    db: Database, database_url: str
) -> None:
    await add_organisations()
    made = portal(
        "create-client",
        "--org",
        "sup1",
        "--scopes",
        "po:read po:ship",
        "--name",
        "Northwind ERP",
        database_url=database_url,
    )
    assert made.returncode == 0, made.stderr
    client_id, secret = field(made.stdout, "client_id"), field(made.stdout, "client_secret")
    assert made.stdout.count(secret) == 1
    assert "shown only this once" in made.stdout

    row = await t.OAuthClient.select().where(t.OAuthClient.client_id == client_id).first().run()
    assert (row["org"], row["name"], row["role"]) == ("SUP1", "Northwind ERP", "supplier")
    assert (row["scope"], row["grant_types"]) == ("po:read po:ship", "client_credentials")
    assert row["secret_hash"] == secret_digest(secret)
    stored = repr([await table.select().run() for table in (t.OAuthClient, t.Event, t.AccessLog)])
    assert secret not in stored

    events = await t.Event.select().where(t.Event.stream == "org/SUP1").run()
    assert [event["kind"] for event in events] == ["client.registered"]
    assert '"name":"cli"' in events[0]["actor"]
    checked = portal("verify-timeline", database_url=database_url)
    assert checked.returncode == 0, checked.stderr


async def test_bad_client_requests_are_refused_in_one_line(db: Database, database_url: str) -> None:
    await add_organisations()
    for args, status, phrase in [
        (("--org", "NOPE", "--scopes", "po:read"), FAILED, "Organisation 'NOPE' was not found."),
        (
            ("--org", "SUP1", "--scopes", "po:read po:write"),
            FAILED,
            "Scope 'po:write' is not allowed for a supplier client",
        ),
        (("--org", "SUP1"), USAGE, "the following arguments are required: --scopes"),
    ]:
        result = portal("create-client", *args, database_url=database_url)
        assert result.returncode == status, (args, result.stderr)
        assert phrase in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        if status == FAILED:
            assert result.stderr.startswith("portal: ")
            assert len(result.stderr.strip().splitlines()) == 1
        else:
            assert result.stderr.startswith("usage: portal create-client")
    assert await t.OAuthClient.count().run() == 0


async def test_create_user_then_invite_then_rotate_keys(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await add_organisations()
    mail_dir = tmp_path / "mail"
    made = portal(
        "create-user",
        "--org",
        "SUP1",
        "--email",
        "Sue@Northwind.example",
        "--name",
        "Sue",
        "--role",
        "supplier",
        database_url=database_url,
    )
    assert made.returncode == 0, made.stderr
    assert "portal invite --email sue@northwind.example" in made.stdout
    user = await t.AppUser.select().first().run()
    assert (user["email"], user["org"], user["password_hash"]) == (
        "sue@northwind.example",
        "SUP1",
        None,
    )

    invited = portal(
        "invite",
        "--email",
        "SUE@northwind.example",
        database_url=database_url,
        mail_dir=str(mail_dir),
        base_url="https://portal.example",
    )
    assert invited.returncode == 0, invited.stderr
    link = field(invited.stdout, "link")
    assert link.startswith("https://portal.example/invitations/")
    assert any(link in path.read_text() for path in mail_dir.iterdir())
    unknown = portal("invite", "--email", "nobody@x.example", database_url=database_url)
    assert unknown.returncode == FAILED
    assert "No user has the e-mail address 'nobody@x.example'" in unknown.stderr

    rotated = portal("rotate-keys", database_url=database_url)
    assert rotated.returncode == 0, rotated.stderr
    kid = re.search(r"new signing key (\S+);", rotated.stdout)
    assert kid, rotated.stdout
    keys = await t.SigningKey.select().run()
    assert [key["kid"] for key in keys if key["retired_at"] is None] == [kid.group(1)]
