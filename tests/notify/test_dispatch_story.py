"""End to end: a supplier moves its promise, and the linked customer learns of it everywhere —
the sales order's new expected date and a customer-visible timeline entry (without the
supplier's name or reason), an in-app notification, an e-mail received by a real SMTP server,
and a webhook received by a real HTTP server whose signature verifies with `standardwebhooks`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from notify_support import (
    LATER,
    accepted_po,
    linked_so,
    move_promise,
    notifications,
    parts,
    people,
    received,
    settings,
    smtp_server,
)
from standardwebhooks import Webhook

from portal.db import tables as t
from portal.db import timeline
from portal.db.database import Database
from portal.notify.dispatcher import Dispatcher
from portal.services import webhooks
from portal.services.unit_of_work import UnitOfWork


@contextmanager
def http_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", got
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_moved_promise_reaches_the_customer_everywhere(
    db: Database, tmp_path: Path
) -> None:
    who = await people()
    await accepted_po(db, who)
    await linked_so(db, who)
    maildir = tmp_path / "maildir"
    with http_receiver() as (url, hooks), smtp_server(maildir) as port:
        values = settings(
            db.url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}", webhook_allow_private=True
        )
        issued = await webhooks.create_webhook(
            UnitOfWork(db),
            values,
            who.carl,
            webhooks.CreateWebhook(url=url, kinds=("line.expected_date_changed",)),
        )
        dispatcher = Dispatcher(values, db)
        while await dispatcher.run_once():
            pass
        # A Maildir lists its mails in no particular order: tell the new ones by Message-ID.
        mails_before = {str(mail["Message-ID"]) for mail in received(maildir)}
        before = await t.SOLine.select().where(t.SOLine.so.number == "SO-1").first().run()
        assert before is not None

        await move_promise(db, who, LATER)
        while await dispatcher.run_once():
            pass

        # The sales order follows the promise, and its customer reads why in general words.
        line = await t.SOLine.select().where(t.SOLine.so.number == "SO-1").first().run()
        assert line is not None and line["expected_date"] > before["expected_date"]
        seen = await timeline.read(who.carl, "so/SO-1")
        moved = [e for e in seen if e.kind == "line.expected_date_changed"][-1]
        assert moved.data["after"] == line["expected_date"].isoformat()
        assert all(e.kind != "notification.sent" for e in seen), "our staff's entry only"
        assert "Northwind" not in str(moved.data) and "Line 3" not in str(moved.data)

        # In the app.
        assert "expected_date_moved" in [n["topic"] for n in await notifications(who.ids["carl"])]

        # By e-mail, in Carl's language, with the tracking link.
        new_mails = [m for m in received(maildir) if str(m["Message-ID"]) not in mails_before]
        carl_mails = [m for m in new_mails if m["To"] == "carl@contoso.example"]
        assert carl_mails, "Carl got the mail"
        mail = carl_mails[-1]
        text, _ = parts(mail)
        assert mail["Content-Language"] == "zh-CN" and "SO-1" in text
        assert "https://portal.example.com/track/" in text
        assert "Northwind" not in text

        # By webhook, signed: it verifies with the subscriber's secret.
        assert hooks, "the webhook arrived"
        headers, body = hooks[-1]
        payload = Webhook(issued.secret).verify(body, headers)
        assert payload["type"] == "line.expected_date_changed"
        assert payload["data"]["number"] == "SO-1"
        assert "Northwind" not in body.decode()
    assert timedelta(0) < (line["expected_date"] - before["expected_date"])
