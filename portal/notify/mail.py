"""Mail, the minimal way: one message in the recipient's language, plain text and HTML, sent
through SMTP when `PORTAL_SMTP_URL` is set, else written to `PORTAL_MAIL_DIR` as an .eml file.

Callers send after their transaction has committed, so no mail ever announces a change that
was rolled back. A failed send is logged and reported to the caller (`deliver` returns False);
nothing retries it: the admin re-sends the invitation, the user asks for a new reset link.
(The outbox of the notifications work will take over retries.)

Each mail is one template under templates/mail/ with three blocks: `subject`, `text` (plain
text, autoescape off) and `html` (inside templates/mail/_layout.html).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import anyio
from jinja2 import Environment
from markupsafe import Markup

from portal.i18n import LOCALES
from portal.settings import Settings
from portal.web.i18n import I18n
from portal.web.rendering import environment

logger = logging.getLogger("portal.mail")

SMTP_TIMEOUT = 30


@cache
def _templates() -> Environment:
    return environment()


def compose(
    settings: Settings,
    *,
    to: str,
    template: str,
    locale: str | None,
    context: Mapping[str, Any],
    time_zone: str | None = None,
) -> EmailMessage:
    """The mail `templates/mail/<template>.html` for `to`, in `locale` (the portal's default
    language when the recipient has none it speaks)."""
    code = locale if locale in LOCALES else settings.default_locale
    i18n = I18n(code, time_zone or settings.time_zone)
    page = _templates().get_template(f"mail/{template}.html")
    values = {**context, "i18n": i18n}

    def block(name: str) -> str:
        return "".join(page.blocks[name](page.new_context(values)))

    message = EmailMessage()
    # Blocks come out escaped for HTML; the subject is a header, not markup.
    message["Subject"] = " ".join(Markup(block("subject")).unescape().split())
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.base_url).hostname or None)
    message.set_content(block("text").strip() + "\n")
    message.add_alternative(page.render(values), subtype="html")
    # After the content: setting it clears every Content-* header.
    message["Content-Language"] = i18n.html_lang
    return message


async def send(settings: Settings, message: EmailMessage) -> None:
    """Send through SMTP, or write into the mail folder; raises when that fails."""
    if settings.smtp_url:
        await _send_smtp(settings.smtp_url, message)
    else:
        await anyio.to_thread.run_sync(_write_eml, Path(settings.mail_dir), message)


async def deliver(settings: Settings, message: EmailMessage) -> bool:
    """`send`, with a failure logged instead of raised: True when the mail went out."""
    try:
        await send(settings, message)
    except Exception:
        # The recipient and subject say which mail to re-send; never the link itself.
        logger.exception(
            "could not send mail %r to %s", str(message["Subject"]), str(message["To"])
        )
        return False
    return True


async def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    implicit_tls = parts.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=parts.hostname or "localhost",
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        # smtp://: STARTTLS whenever the server offers it (aiosmtplib's default).
        timeout=SMTP_TIMEOUT,
    )


def _write_eml(folder: Path, message: EmailMessage) -> Path:
    """Written under a temporary name and renamed, so a reader never sees half a mail."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    handle, scratch = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(bytes(message))
    target = folder / name
    os.replace(scratch, target)
    return target
