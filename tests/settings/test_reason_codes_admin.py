"""Reason codes as an admin shapes them: a code added (English and Chinese labels) is offered
to suppliers in their language and taken by the API; a deactivated built-in code is no longer
offered and refused with a clear message; each change is on our organisation's timeline with
before and after; a stale change is refused. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from internal_world import (
    ADMIN,
    ADMIN_USER,
    SUPPLIER,
    SUPPLIER_USER,
    TODAY,
    acknowledged_order,
    add_people,
    add_supplier_client,
    csrf_of,
    portal,
    supplier_bearer,
)

from portal.db import codec
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.errors import Conflict, DomainError
from portal.domain.events import org_stream
from portal.domain.schedule import Schedule
from portal.internal.settings_pages import default_reason_labels
from portal.services import reason_codes as service
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import UnitOfWork

TOOLING = service.AddReasonCode("tooling_repair", "Tooling repair", "模具维修")


async def org_events(kind: str) -> list[dict[str, Any]]:
    rows = (
        await t.Event.select(t.Event.data)
        .where((t.Event.stream == org_stream("HOME")) & (t.Event.kind == kind))
        .order_by(t.Event.seq)
        .run()
    )
    return [codec.load(row["data"]) for row in rows]


def promise(number: str, version: int, reason: str) -> UpdatePromise:
    return UpdatePromise(
        number, version, 1, Schedule.single(Decimal(100), TODAY + timedelta(days=31)), reason
    )


async def test_codes_added_and_retired_are_what_commands_accept(db: Database) -> None:
    await add_people()
    added = await service.add_reason_code(UnitOfWork(db), ADMIN, TOOLING)
    assert added.version == 1
    with pytest.raises(DomainError, match="already exists"):
        await service.add_reason_code(UnitOfWork(db), ADMIN, TOOLING)
    with pytest.raises(DomainError, match="lowercase letters, digits"):
        await service.add_reason_code(
            UnitOfWork(db), ADMIN, service.AddReasonCode("Bad Code", "x", "y")
        )
    with pytest.raises(DomainError, match="both an English and a Chinese label"):
        await service.add_reason_code(
            UnitOfWork(db), ADMIN, service.AddReasonCode("paint", "Paint", " ")
        )
    labels = default_reason_labels()
    retired = await service.change_reason_code(
        UnitOfWork(db), ADMIN, service.ChangeReasonCode("force_majeure", 0, active=False), labels
    )
    assert retired.version == 1 and not retired.active
    with pytest.raises(Conflict):
        await service.change_reason_code(
            UnitOfWork(db), ADMIN, service.ChangeReasonCode("force_majeure", 0, active=True), labels
        )

    assert await org_events("reason_code.added") == [
        {
            "code": "tooling_repair",
            "label_en": "Tooling repair",
            "label_zh": "模具维修",
            "active": True,
        }
    ]
    assert await org_events("reason_code.changed") == [
        {"code": "force_majeure", "before": {"active": True}, "after": {"active": False}}
    ]

    version = await acknowledged_order(db, "PO-1")
    with pytest.raises(DomainError, match="'force_majeure' is no longer in use"):
        await update_promise(UnitOfWork(db), SUPPLIER, promise("PO-1", version, "force_majeure"))
    moved = await update_promise(
        UnitOfWork(db), SUPPLIER, promise("PO-1", version, "tooling_repair")
    )
    # No tolerance here: the move waits for the buyer, for the admin's reason.
    assert [cr.reason_code for cr in moved.change_requests] == ["tooling_repair"]


async def test_suppliers_see_and_use_the_admins_codes(db: Database, database_url: str) -> None:
    await add_people()
    await add_supplier_client()
    await (
        t.AppUser.update({t.AppUser.locale: "zh_CN"}).where(t.AppUser.email == SUPPLIER_USER).run()
    )
    version = await acknowledged_order(db, "PO-2")
    async with portal(database_url, ADMIN_USER) as admin:
        page = await admin.get("/admin/reason-codes")
        assert page.status_code == 200
        assert "force_majeure" in page.text
        token = csrf_of(page.text)
        bad = await admin.post(
            "/admin/reason-codes",
            data={"_csrf_token": token, "code": "Tool!", "label_en": "T", "label_zh": "T"},
        )
        assert bad.status_code == 422
        assert "A reason code is 1 to 32 lowercase letters" in bad.text
        made = await admin.post(
            "/admin/reason-codes",
            data={
                "_csrf_token": token,
                "code": TOOLING.code,
                "label_en": TOOLING.label_en,
                "label_zh": TOOLING.label_zh,
            },
            follow_redirects=False,
        )
        assert made.status_code == 303
        retired = await admin.post(
            "/admin/reason-codes/force_majeure/deactivate",
            data={"_csrf_token": token, "version": "0"},
            follow_redirects=False,
        )
        assert retired.status_code == 303
        stale = await admin.post(
            "/admin/reason-codes/force_majeure/reactivate",
            data={"_csrf_token": token, "version": "0"},
        )
        assert stale.status_code == 409
        relabelled = await admin.post(
            "/admin/reason-codes/capacity",
            data={
                "_csrf_token": token,
                "version": "0",
                "label_en": "Capacity (machines)",
                "label_zh": "产能设备",
            },
            follow_redirects=False,
        )
        assert relabelled.status_code == 303
        listed = await admin.get("/admin/reason-codes")
        assert 'value="Capacity (machines)"' in listed.text

    async with portal(database_url, SUPPLIER_USER) as supplier:
        order = await supplier.get("/supplier/purchase-orders/PO-2")
        assert order.status_code == 200
        assert '<option value="tooling_repair">模具维修</option>' in order.text
        assert '<option value="capacity">产能设备</option>' in order.text
        assert 'value="force_majeure"' not in order.text

        erp = await supplier_bearer(supplier)
        codes = await supplier.get("/api/v1/reason-codes", headers=erp)
        assert codes.status_code == 200, codes.text
        items = {item["code"]: item for item in codes.json()["items"]}
        assert items["tooling_repair"] == {
            "code": "tooling_repair",
            "label_en": "Tooling repair",
            "label_zh": "模具维修",
            "built_in": False,
        }
        assert "force_majeure" not in items

        url = "/api/v1/purchase-orders/PO-2/lines/1/promise"
        day = (TODAY + timedelta(days=31)).isoformat()
        refused = await supplier.put(
            url,
            json={"date": day, "reason_code": "force_majeure", "version": version},
            headers={**erp, "Accept-Language": "en"},
        )
        assert refused.status_code == 422, refused.text
        assert "force_majeure" in refused.json()["detail"]
        assert "tooling_repair" in refused.json()["detail"]
        taken = await supplier.put(
            url,
            json={"date": day, "reason_code": "tooling_repair", "version": version},
            headers=erp,
        )
        assert taken.status_code in (200, 201, 202), taken.text

    assert [event["code"] for event in await org_events("reason_code.changed")] == [
        "force_majeure",
        "capacity",
    ]
