"""Mail: composed in the recipient's language, sent to a real SMTP server (aiosmtpd in a child
process), or written into the mail folder when no server is configured; an invitation's mail
arrives through both."""

from __future__ import annotations

import logging
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

import pytest
from auth_support import add_org, add_user, free_port

from portal.auth.invitations import invite
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.i18n import translations
from portal.notify import mail
from portal.settings import Settings

ADMIN = Actor(ActorKind.USER, "1", "ACME", Side.INTERNAL, "Ada Admin", Via.WEB, "admin")
LINK = "https://portal.example.com/invitations/tok-123"


@contextmanager
def smtp_server(maildir: Path) -> Iterator[int]:
    """aiosmtpd on a free loopback port, storing what it receives in a Maildir."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stderr is not None
            raise AssertionError(f"aiosmtpd exited: {process.stderr.read().decode()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("aiosmtpd did not listen within 20 s")


def received(maildir: Path) -> list[EmailMessage]:
    box = mailbox.Maildir(maildir, create=False)
    return [parse(box.get_bytes(key)) for key in box.iterkeys()]


def written(folder: Path) -> list[EmailMessage]:
    return [parse(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


def parse(raw: bytes) -> EmailMessage:
    # With this policy the parser builds EmailMessage objects; typeshed only says Message.
    parser = BytesParser(_class=EmailMessage, policy=policy.default)
    return cast(EmailMessage, parser.parsebytes(raw))


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "the mail has a text and an HTML part"
    return text.get_content(), html.get_content()


def compose(settings: Settings, locale: str) -> EmailMessage:
    return mail.compose(
        settings,
        to="ann@supplier.example",
        template="invitation",
        locale=locale,
        context={
            "name": "Ann <Lee>",
            "inviter": "Ada Admin",
            "org_name": "Northwind & Co",
            "link": LINK,
            "expires_at": datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        },
    )


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_mail_is_written_in_the_recipients_language(locale: str, tmp_path: Path) -> None:
    message = compose(Settings(mail_dir=str(tmp_path)), locale)

    assert message["Content-Language"] == locale.replace("_", "-")
    assert message["Subject"] == translations(locale).gettext("You are invited to the order portal")
    text, html = parts(message)
    # Plain text is plain: names are not HTML-escaped there, and are escaped in the HTML part.
    assert "Ann <Lee>" in text and "Northwind & Co" in text and LINK in text
    assert "Ann &lt;Lee&gt;" in html and f'href="{LINK}"' in html
    assert f'lang="{locale.replace("_", "-")}"' in html


async def test_without_smtp_the_mail_is_written_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    settings = Settings(mail_dir=str(folder))

    assert await mail.deliver(settings, compose(settings, "en"))

    [stored] = written(folder)
    assert stored["To"] == "ann@supplier.example"
    assert LINK in parts(stored)[0]
    assert not list(folder.glob("*.tmp")), "no half-written file stays behind"


async def test_with_smtp_the_mail_goes_to_the_server(tmp_path: Path) -> None:
    maildir = tmp_path / "maildir"
    with smtp_server(maildir) as port:
        settings = Settings(smtp_url=f"smtp://127.0.0.1:{port}", mail_dir=str(tmp_path / "unused"))
        assert await mail.deliver(settings, compose(settings, "zh_CN"))

    [got] = received(maildir)
    assert got["To"] == "ann@supplier.example"
    assert got["Content-Language"] == "zh-CN"
    assert LINK in parts(got)[0]
    assert not (tmp_path / "unused").exists()


async def test_a_failed_send_is_logged_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed_port = free_port()  # nothing listens there
    settings = Settings(smtp_url=f"smtp://127.0.0.1:{closed_port}", mail_dir=str(tmp_path))

    with caplog.at_level(logging.ERROR, logger="portal.mail"):
        assert not await mail.deliver(settings, compose(settings, "en"))

    assert "ann@supplier.example" in caplog.text
    assert LINK not in caplog.text, "the link is a credential: never logged"


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_an_invitation_arrives_over_smtp_and_in_the_folder(
    db: Database, tmp_path: Path
) -> None:
    await add_org("ACME", "internal")
    await add_org("SUP1", "supplier")
    ann = await add_user(
        "ann@supplier.example", org="SUP1", role="supplier", password=None, locale="zh_CN"
    )
    maildir = tmp_path / "maildir"
    with smtp_server(maildir) as port:
        over_smtp = Settings(
            base_url="https://portal.example.com",
            smtp_url=f"smtp://127.0.0.1:{port}",
            mail_dir=str(tmp_path / "folder"),
        )
        first = await invite(db, over_smtp, ADMIN, ann)
    to_folder = Settings(base_url="https://portal.example.com", mail_dir=str(tmp_path / "folder"))
    second = await invite(db, to_folder, ADMIN, ann)

    assert first.mailed and second.mailed
    assert first.link.startswith("https://portal.example.com/invitations/")
    assert second.expires_at - datetime.now(UTC) > timedelta(days=6)
    [by_smtp] = received(maildir)
    [in_folder] = written(tmp_path / "folder")
    assert first.link in parts(by_smtp)[0]
    assert second.link in parts(in_folder)[0]
    assert by_smtp["Content-Language"] == in_folder["Content-Language"] == "zh-CN"
