"""Business settings as an admin changes them: the next command obeys them at once (a raised
tolerance makes a promise move apply instead of becoming a change request), each change is on
our organisation's timeline with before and after, a stale form or call is refused with the
current values, bad values save nothing, and only admins get in. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from internal_world import (
    ADMIN,
    ADMIN_USER,
    BUYER_USER,
    SUPPLIER,
    TODAY,
    acknowledged_order,
    add_admin_client,
    add_people,
    admin_bearer,
    csrf_of,
    portal,
)

from portal.db import codec, rule_store
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.errors import Conflict
from portal.domain.events import org_stream
from portal.domain.schedule import Schedule
from portal.services import settings as service
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import UnitOfWork

DAYS = "tolerance.max_date_move_days"


def moved(number: str, version: int, days: int) -> UpdatePromise:
    return UpdatePromise(
        number,
        version,
        1,
        Schedule.single(Decimal(100), TODAY + timedelta(days=30 + days)),
        "capacity",
        "",
    )


async def settings_rows() -> list[dict[str, Any]]:
    rows = (
        await t.Event.select()
        .where((t.Event.stream == org_stream("HOME")) & (t.Event.kind == "settings.changed"))
        .order_by(t.Event.seq)
        .run()
    )
    return [
        {**row, "data": codec.load(row["data"]), "actor": codec.load(row["actor"])} for row in rows
    ]


async def settings_events() -> list[dict[str, Any]]:
    return [row["data"] for row in await settings_rows()]


def form_of(html: str) -> dict[str, str]:
    """The settings form's fields as the page filled them in."""
    return dict(re.findall(r'<input id="setting-[^"]+" name="([^"]+)" value="([^"]*)"', html))


async def test_a_raised_tolerance_applies_to_the_next_promise(db: Database) -> None:
    await add_people()
    version = await acknowledged_order(db, "PO-1")
    # No tolerance (the settings' default): a two-day move waits for the buyer.
    reviewed = await update_promise(UnitOfWork(db), SUPPLIER, moved("PO-1", version, 2))
    assert reviewed.applied == [] and len(reviewed.change_requests) == 1

    before = await service.current(UnitOfWork(db).base_rules)
    assert before.version == 0 and before.values[DAYS] == 0
    after = await service.change_settings(
        UnitOfWork(db), ADMIN, service.ChangeSettings(0, {DAYS: 3, "cr_sla_hours": 48})
    )
    assert after.values[DAYS] == 3 and after.version == 2
    assert (await rule_store.load_rules(UnitOfWork(db).base_rules)).cr_sla_hours == 48

    version = await acknowledged_order(db, "PO-2")
    applied = await update_promise(UnitOfWork(db), SUPPLIER, moved("PO-2", version, 2))
    assert applied.applied == [("PO-2", 1)] and applied.change_requests == []

    assert await settings_events() == [
        {"before": {DAYS: 0, "cr_sla_hours": 24}, "after": {DAYS: 3, "cr_sla_hours": 48}}
    ]
    # The alert thresholds the scanner reads follow too.
    await service.change_settings(
        UnitOfWork(db),
        ADMIN,
        service.ChangeSettings(2, {"alert.po_unacknowledged.escalate_hours": 96}),
    )
    assert (await rule_store.alert_thresholds())["po_unacknowledged"] == (24, 96)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({DAYS: -1}, "must be a whole number of zero or more"),
        ({"over_delivery_pct": 101}, "is a percentage from 0 to 100"),
        (
            {"alert.cr_overdue.hours": 30, "alert.cr_overdue.escalate_hours": 10},
            "escalate after 10 hours cannot come before raising it after 30 hours",
        ),
        ({"no.such": 1}, "There is no setting 'no.such'"),
    ],
)
async def test_bad_values_save_nothing(db: Database, values: dict[str, int], message: str) -> None:
    await add_people()
    with pytest.raises(service.InvalidSettings) as refused:
        await service.change_settings(
            UnitOfWork(db), ADMIN, service.ChangeSettings(0, {DAYS: 5, **values})
        )
    assert message in str(refused.value)
    assert await t.RuleSetting.count().run() == 0
    assert await settings_events() == []


async def test_a_stale_change_is_refused(db: Database) -> None:
    await add_people()
    await service.change_settings(UnitOfWork(db), ADMIN, service.ChangeSettings(0, {DAYS: 1}))
    with pytest.raises(Conflict) as stale:
        await service.change_settings(UnitOfWork(db), ADMIN, service.ChangeSettings(0, {DAYS: 7}))
    assert stale.value.current_version == 1
    assert (await service.current(UnitOfWork(db).base_rules)).values[DAYS] == 1


async def test_the_settings_page_and_api(db: Database, database_url: str) -> None:
    await add_people()
    await add_admin_client()
    async with portal(database_url, ADMIN_USER) as admin:
        index = await admin.get("/admin")
        for link in (
            "/admin/organisations",
            "/admin/users",
            "/admin/clients",
            "/admin/settings#thresholds",
            "/admin/settings#tolerance",
            "/admin/reason-codes",
            "/notifications/webhooks",
            "/admin/outbox",
        ):
            assert f'href="{link}"' in index.text, link
        page = await admin.get("/admin/settings")
        assert page.status_code == 200
        assert "Purchase order not acknowledged" in page.text
        assert 'name="alert.po_unacknowledged.hours" value="24"' in page.text
        form = form_of(page.text)
        assert form[DAYS] == "3" and form["over_delivery_pct"] == "5"  # the Settings'
        token = csrf_of(page.text)

        bad = await admin.post(
            "/admin/settings",
            data={**form, "_csrf_token": token, "version": "0", "over_delivery_pct": "150"},
        )
        assert bad.status_code == 422
        assert "Nothing was saved" in bad.text
        assert "is a percentage from 0 to 100" in bad.text
        assert 'value="150"' in bad.text
        assert form_of((await admin.get("/admin/settings")).text) == form

        saved = await admin.post(
            "/admin/settings",
            data={**form, "_csrf_token": token, "version": "0", DAYS: "4"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert "The settings were saved" in (await admin.get(saved.headers["location"])).text

        stale = await admin.post(
            "/admin/settings",
            data={**form, "_csrf_token": token, "version": "0", DAYS: "9"},
        )
        assert stale.status_code == 409
        assert "Someone changed the settings" in stale.text
        assert f'name="{DAYS}" value="4"' in stale.text  # the current values

        api = await admin_bearer(admin)
        read = await admin.get("/api/v1/settings", headers=api)
        assert read.status_code == 200, read.text
        assert read.headers["etag"] == '"1"'
        assert read.json()["values"][DAYS] == 4
        assert read.json()["defaults"][DAYS] == 3
        blind = await admin.put("/api/v1/settings", json={"values": {DAYS: 2}}, headers=api)
        assert blind.status_code == 428
        old = await admin.put(
            "/api/v1/settings", json={"values": {DAYS: 2}}, headers={**api, "If-Match": '"0"'}
        )
        assert old.status_code == 409
        assert old.json()["current"]["values"][DAYS] == 4
        wrong = await admin.put(
            "/api/v1/settings",
            json={"values": {"handling_days": -2}},
            headers={**api, "If-Match": '"1"'},
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "values.handling_days"
        put = await admin.put(
            "/api/v1/settings", json={"values": {DAYS: 2}}, headers={**api, "If-Match": '"1"'}
        )
        assert put.status_code == 200, put.text
        assert put.headers["etag"] == '"2"' and put.json()["values"][DAYS] == 2

    events = await settings_events()
    assert events == [
        {"before": {DAYS: 3}, "after": {DAYS: 4}},
        {"before": {DAYS: 4}, "after": {DAYS: 2}},
    ]
    entries = await settings_rows()
    assert entries[0]["actor"]["name"] == "Ada Admin" and entries[0]["via"] == "web"
    assert entries[1]["via"] == "api"


async def test_only_admins_change_settings(db: Database, database_url: str) -> None:
    await add_people()
    async with portal(database_url, BUYER_USER) as buyer:
        assert (await buyer.get("/admin/settings")).status_code in (403, 404)
        assert (await buyer.get("/admin/reason-codes")).status_code in (403, 404)
        refused = await buyer.post("/admin/settings", data={DAYS: "9", "version": "0"})
        assert refused.status_code in (403, 404)
    assert await t.RuleSetting.count().run() == 0
