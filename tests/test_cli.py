"""The `portal` command line with bad input: every mistake ends with a clear message on stderr
and a non-zero exit status (2 for a usage or settings mistake, 1 for a failure), never a
traceback. Each case runs the real command in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

USAGE = 2
FAILED = 1


def portal(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`portal ARGS` with exactly the given PORTAL_* settings (none from the outside)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env |= {f"PORTAL_{name.upper()}": value for name, value in settings.items()}
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused(result: subprocess.CompletedProcess[str], status: int, *phrases: str) -> None:
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for phrase in phrases:
        assert phrase in result.stderr


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = portal("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "migrate", "demo", "verify-timeline"):
        assert command in result.stdout
    assert "PORTAL_" in result.stdout


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("serve", "--port", "abc"), "'abc' is not a port number"),
        (("serve", "--port", "0"), "0 is not between 1 and 65535"),
        (("serve", "--port", "70000"), "70000 is not between 1 and 65535"),
        (("migrate", "--force"), "unrecognized arguments: --force"),
    ],
    ids=["no command", "unknown command", "port not a number", "port 0", "port too big", "flag"],
)
def test_bad_arguments(tmp_path: Path, args: tuple[str, ...], phrase: str) -> None:
    assert_refused(portal(*args, cwd=tmp_path), USAGE, "usage: portal", phrase)


@pytest.mark.parametrize(
    ("settings", "phrases"),
    [
        (
            {"databse_url": "sqlite:///x.db"},
            ("Unknown setting PORTAL_DATABSE_URL", "PORTAL_DATABASE_URL"),
        ),
        ({"database_url": "mysql://db/portal"}, ("PORTAL_DATABASE_URL=", "postgresql://")),
        ({"database_url": "sqlite://"}, ("names no file", "sqlite:///portal.db")),
        ({"database_url": "postgresql://127.0.0.1:5432"}, ("names no database",)),
        (
            {"database_url": "postgresql://postgres:s3cret@127.0.0.1:99999/portal"},
            ("has no valid port", "postgres:***@"),
        ),
        ({"database_url": "postgresql://postgres@127.0.0.1:pg/portal"}, ("has no valid port",)),
        ({"port": "eighty"}, ("PORTAL_PORT='eighty' must be a whole number",)),
        ({"port": "0"}, ("PORTAL_PORT=0: a port is between 1 and 65535",)),
        ({"cr_sla_hours": "a day"}, ("PORTAL_CR_SLA_HOURS='a day' must be a whole number",)),
        ({"handling_days": "-1"}, ("PORTAL_HANDLING_DAYS cannot be negative",)),
        ({"over_delivery_pct": "lots"}, ("PORTAL_OVER_DELIVERY_PCT='lots' must be a number",)),
        ({"time_zone": "Mars/Olympus"}, ("PORTAL_TIME_ZONE='Mars/Olympus' is not a known",)),
        ({"time_zone": "../../etc/passwd"}, ("is not a known time zone",)),
        ({"default_locale": "fr"}, ("PORTAL_DEFAULT_LOCALE is zh_CN or en",)),
        ({"base_url": "portal.example.com"}, ("PORTAL_BASE_URL=",)),
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) else None,
)
def test_bad_settings(tmp_path: Path, settings: dict[str, str], phrases: tuple[str, ...]) -> None:
    result = portal("migrate", cwd=tmp_path, **settings)
    assert_refused(result, USAGE, "portal: ", *phrases)
    assert "s3cret" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", ["verify-timeline", "demo", "serve"])
def test_every_command_reads_the_settings_first(tmp_path: Path, command: str) -> None:
    assert_refused(
        portal(command, cwd=tmp_path, port="eighty"), USAGE, "PORTAL_PORT='eighty' must be"
    )


@pytest.mark.parametrize("command", ["migrate", "verify-timeline"])
def test_unreachable_postgresql(tmp_path: Path, command: str) -> None:
    result = portal(
        command, cwd=tmp_path, database_url="postgresql://postgres:s3cret@127.0.0.1:1/portal"
    )
    assert_refused(
        result,
        FAILED,
        "portal: cannot reach the database at postgresql://postgres:***@127.0.0.1:1/portal",
    )
    assert "s3cret" not in result.stderr


def test_a_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    admin = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = admin.rpartition("/")[0] + "/portal_no_such_database"
    result = portal("verify-timeline", cwd=tmp_path, database_url=url)
    assert_refused(result, FAILED, f"portal: database error at {url}", "portal_no_such_database")


def test_verifying_an_unmigrated_database_says_to_migrate(tmp_path: Path, sqlite_url: str) -> None:
    result = portal("verify-timeline", cwd=tmp_path, database_url=sqlite_url)
    assert_refused(result, FAILED, "not migrated; run `portal migrate` first")


@pytest.mark.parametrize(
    ("args", "settings"),
    [
        (("serve", "--host", "0.0.0.0"), {}),
        (("serve", "--host", "::"), {}),
        (("serve", "--host", "192.168.1.10", "--port", "8080"), {}),
        (("serve",), {"host": "0.0.0.0"}),
    ],
    ids=["--host 0.0.0.0", "--host ::", "--host LAN", "PORTAL_HOST"],
)
def test_serve_refuses_to_face_a_network_over_plain_http(
    tmp_path: Path, sqlite_url: str, args: tuple[str, ...], settings: dict[str, str]
) -> None:
    result = portal(*args, cwd=tmp_path, database_url=sqlite_url, **settings)
    assert_refused(result, USAGE, "needs PORTAL_BASE_URL=https://", "only on 127.0.0.1")


def test_nothing_is_written_in_the_working_directory_by_a_refused_command(
    tmp_path: Path,
) -> None:
    """A refused command creates no database file (nor the var/ folder of the default)."""
    portal("migrate", cwd=tmp_path, port="eighty")
    portal("serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
