"""The scanner, rule by rule, on SQLite and PostgreSQL: for each rule a story built through the
real commands where the alert must fire, must not fire, must escalate and must resolve, with
the alert rows and the events the system wrote on the order's timeline."""

from __future__ import annotations

from datetime import date

import anyio
import pytest
from alert_support import (
    NEED,
    RULES,
    People,
    Story,
    alert_events,
    alert_rows,
    at,
    brief,
    day,
    line,
    seed,
)

from portal.background import background_tasks
from portal.db.database import Database
from portal.domain.alerts import thresholds_from
from portal.services import alerts, settings
from portal.services.alerts import AlertScanner
from portal.services.change_requests import Verdict
from portal.settings import Settings


@pytest.fixture
async def story(db: Database) -> Story:
    return Story(db, await seed())


def opened(rows: list[dict]) -> list[tuple[str, str]]:
    return [(row["subject"], row["level"]) for row in rows if row["resolved_at"] is None]


async def test_po_unacknowledged(story: Story) -> None:
    people: People = story.people
    await story.issue("PO-1", at(0))
    await story.issue("PO-2", at(0))
    await story.accept("PO-2", at(1))  # acknowledged in time: never an alert

    assert (await story.scan(at(23))).work == 0
    assert await alert_rows() == []

    first = await story.scan(at(25))
    assert (first.raised, first.escalated, first.resolved) == (1, 0, 0)
    [row] = await alert_rows()
    assert (row["rule"], row["subject"], row["stream"], row["number"]) == (
        "po_unacknowledged",
        "po/PO-1",
        "po/PO-1",
        "PO-1",
    )
    assert (row["org"], row["owner_id"], row["owner_name"], row["level"]) == (
        "ACME",
        people.ids["bea@home.test"],
        "Bea Buyer",
        "raised",
    )
    assert row["due_at"] == at(0)
    events = await alert_events("po/PO-1")
    assert brief(events) == [("alert.raised", "po/PO-1", "system", "system", "internal")]
    assert events[0]["actor"]["name"] == "system"
    assert events[0]["data"]["recipients"] == [people.ids["bea@home.test"]]
    assert events[0]["data"]["hours_late"] == 25
    assert await alert_events("po/PO-2") == []

    # The same condition again: nothing new.
    assert (await story.scan(at(30))).work == 0

    escalated = await story.scan(at(73))
    assert (escalated.raised, escalated.escalated) == (0, 1)
    assert opened(await alert_rows()) == [("po/PO-1", "escalated")]
    events = await alert_events("po/PO-1")
    assert [event["kind"] for event in events] == ["alert.raised", "alert.escalated"]
    assert events[1]["data"]["recipients"] == sorted(
        [people.ids["bea@home.test"], people.ids["ada@home.test"]]
    )

    await story.accept("PO-1", at(74))
    resolved = await story.scan(at(75))
    assert resolved.resolved == 1
    [row] = await alert_rows()
    assert row["resolved_at"] == at(75)
    assert brief(await alert_events("po/PO-1"))[-1] == (
        "alert.resolved",
        "po/PO-1",
        "system",
        "system",
        "internal",
    )
    assert (await story.scan(at(76))).work == 0


async def test_promise_after_need(story: Story) -> None:
    await story.issue("PO-1", at(0))
    await story.accept("PO-1", at(1))  # promised on the need date
    await story.issue("PO-2", at(0))
    await story.accept("PO-2", at(1))
    await story.promise("PO-2", at(2), date(2026, 3, 18))  # earlier than needed: fine

    assert (await story.scan(at(3))).work == 0

    await story.promise("PO-1", at(4), date(2026, 3, 21))  # a day late
    assert (await story.scan(at(5))).raised == 1
    [row] = await alert_rows("promise_after_need")
    assert (row["subject"], row["level"]) == ("po/PO-1/line/1", "raised")
    assert row["data"] == {"line_no": 1, "need_date": "2026-03-20", "promised_date": "2026-03-21"}
    assert brief(await alert_events("po/PO-1")) == [
        ("alert.raised", "po/PO-1/line/1", "system", "system", "internal")
    ]

    await story.promise("PO-1", at(6), date(2026, 3, 25))  # five days late: to a manager
    assert (await story.scan(at(7))).escalated == 1
    assert opened(await alert_rows("promise_after_need")) == [("po/PO-1/line/1", "escalated")]

    await story.promise("PO-1", at(8), NEED)  # back on time
    assert (await story.scan(at(9))).resolved == 1
    assert opened(await alert_rows()) == []
    assert [event["kind"] for event in await alert_events("po/PO-1")] == [
        "alert.raised",
        "alert.escalated",
        "alert.resolved",
    ]
    assert await alert_events("po/PO-2") == []


async def test_promise_passed_unshipped(story: Story) -> None:
    await story.issue("PO-1", at(0))
    await story.accept("PO-1", at(1))  # promised for NEED (20 March)
    await story.issue("PO-2", at(0))
    await story.accept("PO-2", at(1))
    await story.ship("PO-2", day(NEED, 10), "ASN-2")  # shipped on the day: fine

    assert (await story.scan(day(NEED, 23))).work == 0  # the day is not over

    late = day(date(2026, 3, 21), 1)
    assert (await story.scan(late)).raised == 1
    [row] = await alert_rows("promise_passed_unshipped")
    assert (row["subject"], row["level"], row["data"]["unshipped"]) == (
        "po/PO-1/line/1",
        "raised",
        "100",
    )
    assert row["due_at"] == day(date(2026, 3, 21))

    assert (await story.scan(day(date(2026, 3, 23), 1))).escalated == 1
    await story.ship("PO-1", day(date(2026, 3, 23), 2), "ASN-1")
    assert (await story.scan(day(date(2026, 3, 23), 3))).resolved == 1
    assert opened(await alert_rows()) == []
    assert brief(await alert_events("po/PO-1")) == [
        ("alert.raised", "po/PO-1/line/1", "system", "system", "internal"),
        ("alert.escalated", "po/PO-1/line/1", "system", "system", "internal"),
        ("alert.resolved", "po/PO-1/line/1", "system", "system", "internal"),
    ]
    assert await alert_events("po/PO-2") == []


async def test_shipment_overdue(story: Story) -> None:
    await story.issue("PO-1", at(0))
    await story.accept("PO-1", at(1))
    await story.ship("PO-1", day(date(2026, 3, 10), 9), "ASN-1", arrival=date(2026, 3, 12))
    await story.issue("PO-2", at(0))
    await story.accept("PO-2", at(1))
    await story.ship("PO-2", day(date(2026, 3, 10), 9), "ASN-2", arrival=date(2026, 3, 12))
    await story.receive("PO-2", day(date(2026, 3, 12), 15), "GRN-2", "ASN-2")  # in time

    assert (await story.scan(day(date(2026, 3, 12), 20))).work == 0
    assert (await story.scan(day(date(2026, 3, 13), 1))).raised == 1
    [row] = await alert_rows("shipment_overdue")
    assert (row["subject"], row["number"], row["data"]["expected_arrival"]) == (
        "shipment/ASN-1",
        "PO-1",
        "2026-03-12",
    )
    assert (await story.scan(day(date(2026, 3, 15), 1))).escalated == 1
    await story.receive("PO-1", day(date(2026, 3, 15), 8), "GRN-1", "ASN-1")
    assert (await story.scan(day(date(2026, 3, 15), 9))).resolved == 1
    assert opened(await alert_rows()) == []
    assert [kind for kind, *_ in brief(await alert_events("po/PO-1"))] == [
        "alert.raised",
        "alert.escalated",
        "alert.resolved",
    ]
    assert await alert_events("po/PO-2") == []


async def test_cr_overdue(story: Story) -> None:
    await story.issue("PO-1", at(0))
    await story.accept("PO-1", at(1))
    cr = await story.open_cr("PO-1", at(2), date(2026, 3, 18))  # due 24 h later
    await story.issue("PO-2", at(0))
    await story.accept("PO-2", at(1))
    answered = await story.open_cr("PO-2", at(2), date(2026, 3, 18))
    await story.decide_cr(answered, at(3), Verdict.REJECT)  # decided in time

    assert (await story.scan(at(25))).work == 0
    assert (await story.scan(at(27))).raised == 1
    [row] = await alert_rows("cr_overdue")
    assert (row["subject"], row["number"], row["due_at"]) == (f"cr/{cr}", "PO-1", at(26))
    assert (await story.scan(at(50))).escalated == 1
    await story.decide_cr(cr, at(51), Verdict.APPROVE)
    assert (await story.scan(at(52))).resolved == 1
    assert opened(await alert_rows()) == []
    assert [kind for kind, *_ in brief(await alert_events("po/PO-1"))] == [
        "alert.raised",
        "alert.escalated",
        "alert.resolved",
    ]
    assert await alert_events("po/PO-2") == []


async def test_so_late(story: Story) -> None:
    people = story.people
    await story.issue("PO-1", at(0), lines=[line(need=date(2026, 4, 13))])
    await story.accept("PO-1", at(1))
    await story.sell("SO-1", at(2), requested=date(2026, 4, 15), expected=date(2026, 4, 14))
    await story.link("SO-1", "PO-1", at(3))  # expected 13 + 2 = 15 April: on time
    await story.sell("SO-2", at(2), requested=date(2026, 4, 15), expected=date(2026, 4, 10))

    assert (await story.scan(at(4))).work == 0

    await story.promise("PO-1", at(5), date(2026, 4, 14))  # SO-1 now expected on 16 April
    assert (await story.scan(at(6))).raised >= 1
    [row] = await alert_rows("so_late")
    assert (row["subject"], row["stream"], row["org"], row["level"]) == (
        "so/SO-1/line/1",
        "so/SO-1",
        "SHOP",
        "raised",
    )
    assert (row["owner_id"], row["owner_name"]) == (people.ids["sam@home.test"], "Sam Sales")
    assert row["data"]["expected_date"] == "2026-04-16"

    await story.promise("PO-1", at(7), date(2026, 4, 17))  # expected on 19 April
    await story.scan(at(8))
    assert opened(await alert_rows("so_late")) == [("so/SO-1/line/1", "escalated")]

    await story.ship_so("SO-1", at(9))
    await story.scan(at(10))
    assert opened(await alert_rows("so_late")) == []
    assert brief(await alert_events("so/SO-1")) == [
        ("alert.raised", "so/SO-1/line/1", "system", "system", "internal"),
        ("alert.escalated", "so/SO-1/line/1", "system", "system", "internal"),
        ("alert.resolved", "so/SO-1/line/1", "system", "system", "internal"),
    ]
    assert await alert_events("so/SO-2") == []


async def test_an_admins_thresholds_apply_to_the_next_round(story: Story) -> None:
    await story.issue("PO-1", at(0))
    assert (await story.scan(at(5))).work == 0, "by default: 24 hours"
    current = await settings.current(story.uow(at(5)).rules)
    await settings.change_settings(
        story.uow(at(5)),
        story.people.admin,
        settings.ChangeSettings(
            current.version,
            {"alert.po_unacknowledged.hours": 4, "alert.po_unacknowledged.escalate_hours": 6},
        ),
    )
    assert (await story.scan(at(5))).raised == 1
    assert (await story.scan(at(6))).escalated == 1
    assert opened(await alert_rows()) == [("po/PO-1", "escalated")]


async def test_the_background_scanner_runs_rounds_until_stopped(
    story: Story, database_url: str
) -> None:
    await story.issue("PO-1", at(0))
    config = Settings(database_url=database_url, secret_key="s" * 40, alert_scan_seconds=1)
    tasks = background_tasks(config, story.db, None)
    scanner = AlertScanner(config, story.db, clock=lambda: at(25))
    assert len(tasks) >= 1
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(scanner.run_forever, stop)
        for _ in range(1200):  # until the first round has written (a minute at most)
            if await alert_rows():
                break
            await anyio.sleep(0.05)
        stop.set()
    assert opened(await alert_rows()) == [("po/PO-1", "raised")]


async def test_a_condition_cleared_after_the_round_read_it_raises_nothing(story: Story) -> None:
    """A round reads what is tripped, then writes order by order: a supplier acknowledging in
    between (the order is read again, locked, before the alert is written) is no alert."""
    await story.issue("PO-1", at(0))
    steps = await alerts.plan(at(25), thresholds_from(None))
    assert [item.subject for item in steps["po/PO-1"].raise_] == ["po/PO-1"]
    await story.accept("PO-1", at(25))
    done = await alerts.apply(story.db, lambda: at(25), steps, rules=RULES)
    assert done.work == 0
    assert await alert_rows() == []
    assert await alert_events("po/PO-1") == []
