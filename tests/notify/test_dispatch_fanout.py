"""Fan-out: each committed order event becomes the right in-app notifications and deliveries,
per side and per preference; the author is never told of their own change, a customer never
reads the supplier's name, and who was told is on the order's timeline for our staff."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from notify_support import (
    CONTACT,
    LATER,
    accepted_po,
    deliveries,
    events,
    issue_po,
    linked_so,
    move_promise,
    notifications,
    people,
    settings,
)

from portal.db import tables as t
from portal.db.database import Database
from portal.notify.dispatcher import Dispatcher


async def test_a_new_order_tells_the_supplier_not_its_author(db: Database, tmp_path: Path) -> None:
    who = await people()
    await issue_po(db, who)
    dispatcher = Dispatcher(settings(db.url, tmp_path), db)

    assert await dispatcher.fan_out() >= 1

    [sue] = await notifications(who.ids["sue"])
    assert (sue["topic"], sue["kind"], sue["data"]["number"]) == (
        "new_purchase_order",
        "po.issued",
        "PO-1",
    )
    assert await notifications(who.ids["bea"]) == [], "Bea issued it: she is not told"
    assert await notifications(who.ids["carl"]) == []
    [mail] = await deliveries(channel="email")
    assert (mail["target"], mail["status"], mail["payload"]["topic"]) == (
        str(who.ids["sue"]),
        "pending",
        "new_purchase_order",
    )
    [told] = await events("po/PO-1", "notification.sent")
    assert told["audience"] == "internal"
    assert told["actor"]["kind"] == "system"
    assert told["data"]["in_app"] == ["Sue Supplier"] and told["data"]["email"] == ["Sue Supplier"]
    issued = next(e for e in await events("po/PO-1") if e["kind"] == "po.issued")
    assert told["data"]["for_seq"] == issued["seq"]

    # Nothing is pending any more: another run writes nothing, on the timeline or elsewhere.
    assert await dispatcher.fan_out() == 0
    assert len(await notifications(who.ids["sue"])) == 1
    assert len(await events("po/PO-1", "notification.sent")) == 1
    assert await t.Outbox.count().where(t.Outbox.done_at.is_null()).run() == 0


async def test_the_orders_own_buyer_hears_of_the_acknowledgement(
    db: Database, tmp_path: Path
) -> None:
    who = await people()
    await accepted_po(db, who)

    await Dispatcher(settings(db.url, tmp_path), db).fan_out()

    assert [n["topic"] for n in await notifications(who.ids["bea"])] == ["acknowledgement"]
    assert await notifications(who.ids["bob"]) == [], "not his order"
    assert [n["kind"] for n in await notifications(who.ids["sue"])] == ["po.issued"], (
        "the supplier is not told of its own acknowledgement"
    )


async def test_a_moved_promise_reaches_the_customer_without_the_suppliers_name(
    db: Database, tmp_path: Path
) -> None:
    who = await people()
    await accepted_po(db, who)
    await linked_so(db, who)
    dispatcher = Dispatcher(settings(db.url, tmp_path), db)
    await dispatcher.fan_out()
    before = {name: len(await notifications(who.ids[name])) for name in who.ids}

    await move_promise(db, who, LATER)
    await dispatcher.fan_out()

    new = {name: (await notifications(who.ids[name]))[before[name] :] for name in who.ids}
    assert [n["topic"] for n in new["carl"]] == ["expected_date_moved"]
    assert [n["topic"] for n in new["sam"]] == ["expected_date_moved"]
    assert [n["topic"] for n in new["bea"]] == ["promise_moved"]
    assert new["sue"] == [] and new["bob"] == []
    told_carl = str(new["carl"][0]["data"])
    assert "Northwind" not in told_carl and "Sue" not in told_carl and "Line 3" not in told_carl
    # The order's contact address is nobody's account: it is mailed too, in the portal's words.
    contact = [d for d in await deliveries(channel="email") if d["target"] == f"contact:{CONTACT}"]
    assert [d["payload"]["topic"] for d in contact][-1] == "expected_date_moved"
    assert all(d["org"] == "CUS1" for d in contact)
    told = (await events("so/SO-1", "notification.sent"))[-1]
    assert "Carl Contoso" in told["data"]["in_app"]
    assert "o***@contoso.example" in told["data"]["email"], "a guest's address is masked"


async def test_preferences_choose_the_channels_and_the_digest(db: Database, tmp_path: Path) -> None:
    who = await people()
    await t.NotificationPreference.insert(
        t.NotificationPreference(
            user_id=who.ids["carl"], topic="expected_date_moved", in_app=False, digest=True
        ),
        t.NotificationPreference(
            user_id=who.ids["sam"], topic="expected_date_moved", in_app=True, email=False
        ),
    ).run()
    await accepted_po(db, who)
    await linked_so(db, who)
    dispatcher = Dispatcher(settings(db.url, tmp_path, digest_hour=8), db)
    await dispatcher.fan_out()

    await move_promise(db, who, LATER)
    await dispatcher.fan_out()

    assert "expected_date_moved" not in [n["topic"] for n in await notifications(who.ids["carl"])]
    moved = [
        d
        for d in await deliveries(target=str(who.ids["carl"]))
        if d["payload"]["topic"] == "expected_date_moved"
    ]
    assert moved and all(d["payload"]["digest"] for d in moved)
    carl = moved[-1]
    assert carl["payload"]["digest"] is True
    at = carl["next_at"].astimezone(ZoneInfo("Asia/Shanghai"))
    assert (at.hour, at.minute) == (8, 0), "at eight in the morning, in Carl's time zone"
    assert carl["next_at"] > datetime.now(ZoneInfo("UTC"))
    assert "expected_date_moved" in [n["topic"] for n in await notifications(who.ids["sam"])]
    assert [
        d
        for d in await deliveries(target=str(who.ids["sam"]))
        if d["payload"]["topic"] == "expected_date_moved"
    ] == []
