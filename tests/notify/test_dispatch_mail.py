"""Delivery by e-mail: to a real SMTP server (aiosmtpd), multipart, in each recipient's language,
with the links each reader needs; every attempt recorded; an SMTP server that is down is
retried until it is back, and then everything arrives once; the daily digest is one mail."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from notify_support import (
    CONTACT,
    LATER,
    accepted_po,
    deliveries,
    free_port,
    issue_po,
    linked_so,
    move_promise,
    parts,
    people,
    received,
    settings,
    smtp_server,
)

from portal.db import tables as t
from portal.db.database import Database
from portal.notify.dispatcher import Dispatcher
from portal.services.unit_of_work import utc_now


async def attempts(delivery_id: int) -> list[dict[str, object]]:
    return list(
        await t.DeliveryAttempt.select()
        .where(t.DeliveryAttempt.delivery == delivery_id)
        .order_by(t.DeliveryAttempt.id)
        .run()
    )


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_mails_arrive_in_each_readers_language_with_their_links(
    db: Database, tmp_path: Path
) -> None:
    who = await people()
    await accepted_po(db, who)
    await linked_so(db, who)
    await move_promise(db, who, LATER)
    maildir = tmp_path / "maildir"
    with smtp_server(maildir) as port:
        dispatcher = Dispatcher(settings(db.url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}"), db)
        while await dispatcher.run_once():
            pass

    mails = received(maildir)
    sent = await deliveries(channel="email")
    assert sent and all(d["status"] == "sent" for d in sent)
    assert sorted(m["X-Portal-Delivery"] for m in mails) == sorted(d["key"] for d in sent)
    by_to: dict[str, list[EmailMessage]] = defaultdict(list)
    for m in mails:
        by_to[m["To"]].append(m)

    # Sue (English) is told of the new order, with the one-click accept link.
    [new_po] = [m for m in by_to["sue@northwind.example"] if "PO-1" in m["Subject"]][:1]
    text, html = parts(new_po)
    assert new_po["Content-Language"] == "en"
    assert "https://portal.example.com/" in text and "Accept the order" in html

    # Carl reads Chinese, and every mail he gets carries the signed tracking link.
    carl = by_to["carl@contoso.example"]
    assert carl and all(m["Content-Language"] == "zh-CN" for m in carl)
    for m in carl:
        text, html = parts(m)
        assert "https://portal.example.com/track/" in text, text
        assert "Northwind" not in text and "Sue" not in text and "Line 3" not in text
    # The guest contact address hears of the moved date too, in the portal's default language.
    assert by_to[CONTACT] and all(m["Content-Language"] == "zh-CN" for m in by_to[CONTACT])

    # Each delivery has its attempt on record, and its subject for the outbox page.
    for delivery in sent:
        [attempt] = await attempts(delivery["id"])
        assert attempt["ok"] is True
        assert delivery["subject"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_an_smtp_server_that_is_down_gets_everything_once_it_is_back(
    db: Database, tmp_path: Path
) -> None:
    who = await people()
    await accepted_po(db, who)
    await linked_so(db, who)
    port = free_port()  # nothing listens there yet
    dispatcher = Dispatcher(settings(db.url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}"), db)

    await dispatcher.run_once()
    await dispatcher.run_once()  # retry_scale 0: due again at once

    waiting = await deliveries(channel="email")
    assert waiting and all(d["status"] == "pending" for d in waiting)
    assert all(d["attempts"] == 2 and d["last_error"] for d in waiting)
    for delivery in waiting:
        tries = await attempts(delivery["id"])
        assert [a["ok"] for a in tries] == [False, False], "every failed try is on record"

    maildir = tmp_path / "maildir"
    with smtp_server(maildir, port=port):
        while await dispatcher.run_once():
            pass

    done = await deliveries(channel="email")
    assert all(d["status"] == "sent" and d["attempts"] == 3 for d in done)
    keys = Counter(m["X-Portal-Delivery"] for m in received(maildir))
    assert keys == Counter(d["key"] for d in done), "each delivery arrived exactly once"


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_without_smtp_mails_are_written_to_the_folder(db: Database, tmp_path: Path) -> None:
    who = await people()
    await issue_po(db, who)
    dispatcher = Dispatcher(settings(db.url, tmp_path), db)

    await dispatcher.run_once()

    [delivery] = await deliveries(channel="email")
    assert delivery["status"] == "sent"
    eml = tmp_path / "mail" / delivery["payload"]["eml"]
    assert eml.exists() and "PO-1" in delivery["subject"]
    assert delivery["key"].encode() in eml.read_bytes()


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_digest_is_one_mail_at_the_readers_hour(db: Database, tmp_path: Path) -> None:
    who = await people()
    for topic in ("expected_date_moved", "order_confirmed"):
        await t.NotificationPreference.insert(
            t.NotificationPreference(user_id=who.ids["carl"], topic=topic, digest=True)
        ).run()
    await accepted_po(db, who)
    await linked_so(db, who)
    await move_promise(db, who, LATER)
    maildir = tmp_path / "maildir"
    with smtp_server(maildir) as port:
        values = settings(db.url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
        while await Dispatcher(values, db).run_once():
            pass
        assert not [m for m in received(maildir) if m["To"] == "carl@contoso.example"]

        tomorrow = Dispatcher(values, db, clock=lambda: utc_now() + timedelta(days=1, hours=1))
        while await tomorrow.run_once():
            pass

    carl = [d for d in await deliveries(target=str(who.ids["carl"]))]
    assert len(carl) >= 2 and all(d["status"] == "sent" for d in carl)
    [digest] = [m for m in received(maildir) if m["To"] == "carl@contoso.example"]
    assert sorted(digest["X-Portal-Delivery"].split(", ")) == sorted(d["key"] for d in carl)
    text, _ = parts(digest)
    assert text.count("https://portal.example.com/orders/SO-1") == len(carl)
