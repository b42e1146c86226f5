"""The admin outbox page against a running `portal serve` (whose own dispatcher delivers, the
embedded default): a new order's mail, written to the mail folder, is listed with its attempt,
readable as written, and sent again on "resend"; nobody but an administrator sees any of it."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest
from auth_support import (
    DEFAULT_PASSWORD,
    add_user,
    csrf_token_of,
    live_portal,
    secure_cookie_client,
    sign_in,
)
from notify_support import deliveries, issue_po, people

from portal.db import tables as t
from portal.db.database import Database

ADA = "ada@acme.example"


async def until_sent(count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while True:
        sent = [d for d in await deliveries(channel="email") if d["status"] == "sent"]
        attempts = await t.DeliveryAttempt.count().where(t.DeliveryAttempt.ok == True).run()  # noqa: E712
        if sent and attempts >= count:
            return sent
        assert time.monotonic() < deadline, "the portal's dispatcher delivered nothing"
        await anyio.sleep(0.1)


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_an_admin_sees_a_delivery_reads_its_mail_and_resends_it(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    who = await people()
    await add_user(ADA, org="ACME", role="admin", display_name="Ada Admin")
    await add_user("sid@northwind.example", org="SUP1", role="supplier", display_name="Sid")
    mail_dir = tmp_path / "mail"
    with live_portal(
        database_url,
        {
            "PORTAL_MAIL_DIR": str(mail_dir),
            "PORTAL_NOTIFY_POLL_SECONDS": "0.2",
            "PORTAL_DISPATCHER": "true",
        },
    ) as base_url:
        await issue_po(db, who)
        sent = await until_sent(2)
        sue_mail = next(d for d in sent if d["target"] == str(who.ids["sue"]))

        async with secure_cookie_client(base_url) as admin, secure_cookie_client(base_url) as sid:
            assert (await sign_in(admin, ADA, DEFAULT_PASSWORD, next="/admin")).status_code == 200
            listing = await admin.get("/admin/outbox", params={"channel": "email"})
            assert listing.status_code == 200
            assert str(sue_mail["subject"]) in listing.text and "PO-1" in listing.text
            assert "sent" in listing.text

            page = await admin.get(f"/admin/outbox/{sue_mail['id']}")
            assert page.status_code == 200
            assert "sue@northwind.example" in page.text, "the mail as it was written"
            assert str(sue_mail["key"]) in page.text

            resent = await admin.post(
                f"/admin/outbox/{sue_mail['id']}/resend",
                data={"_csrf_token": csrf_token_of(page.text)},
            )
            assert resent.status_code == 303
            await until_sent(3)
            again = await admin.get(f"/admin/outbox/{sue_mail['id']}")
            assert "resend requested by Ada Admin" in again.text

            # A supplier's user has no business here: refused, and nothing is shown.
            assert (
                await sign_in(sid, "sid@northwind.example", DEFAULT_PASSWORD)
            ).status_code == 200
            refused = await sid.get("/admin/outbox")
            assert refused.status_code in (403, 404)
            assert "PO-1" not in refused.text

    assert len(list(mail_dir.glob("*.eml"))) == 3, "two mails, and Sue's once more"
