"""Who hears of an alert, through the real dispatcher: the order's owner (in the app and by
e-mail, as they chose), on escalation the managers too; nobody else of our staff, never the
supplier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alert_support import Story, at, seed

from portal.db import tables as t
from portal.db.codec import load
from portal.db.database import Database
from portal.domain.actors import Side
from portal.domain.notifications import Preference
from portal.notify.dispatcher import Dispatcher
from portal.notify.wording import describe
from portal.services.notification_preferences import SetPreferences, set_preferences
from portal.settings import Settings
from portal.web.i18n import I18n


def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        base_url="https://portal.example.com",
        secret_key="s" * 40,
        mail_dir=str(tmp_path / "mail"),
    )


async def told(kind: str) -> dict[int, list[str]]:
    """user id -> the channels on which they were told of alert events of `kind`."""
    found: dict[int, list[str]] = {}
    for row in await t.Notification.select().where(t.Notification.kind == kind).run():
        found.setdefault(row["user_id"], []).append("in_app")
    for row in await t.Delivery.select().where(t.Delivery.kind == kind).run():
        if row["channel"] == "email":
            found.setdefault(int(row["target"]), []).append("email")
    return {user: sorted(channels) for user, channels in found.items()}


async def test_owner_then_managers_hear_of_an_alert(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    story = Story(db, await seed())
    ids = story.people.ids
    bea, ada = ids["bea@home.test"], ids["ada@home.test"]
    # Ada wants alerts in the app only.
    await set_preferences(
        story.uow(at(0)),
        story.people.admin,
        SetPreferences(choices={"alert": Preference(in_app=True, email=False)}),
    )
    await story.issue("PO-1", at(0))
    dispatcher = Dispatcher(settings(database_url, tmp_path), db, clock=lambda: at(0))
    await dispatcher.run_once()

    await story.scan(at(25))
    dispatcher.clock = lambda: at(25)
    await dispatcher.run_once()
    assert await told("alert.raised") == {bea: ["email", "in_app"]}
    notification = (
        await t.Notification.select().where(t.Notification.kind == "alert.raised").first().run()
    )
    assert notification is not None and notification["topic"] == "alert"
    data: dict[str, Any] = load(notification["data"])
    words = describe("alert", "alert.raised", "PO-1", data, I18n("en", "UTC"), Side.INTERNAL)
    assert words.title == "Alert on order PO-1: Purchase order not acknowledged"
    assert words.body.startswith("po/PO-1: 25 hours late")
    assert words.path == "/purchase-orders/PO-1"

    await story.scan(at(73))
    dispatcher.clock = lambda: at(73)
    await dispatcher.run_once()
    assert await told("alert.escalated") == {bea: ["email", "in_app"], ada: ["in_app"]}

    await story.accept("PO-1", at(74))
    await story.scan(at(75))
    dispatcher.clock = lambda: at(75)
    await dispatcher.run_once()
    assert await told("alert.resolved") == {bea: ["email", "in_app"]}
