"""Several scanners at once on PostgreSQL (what several `portal worker` processes do): each
alert is raised exactly once, escalated once and resolved once."""

from __future__ import annotations

import asyncio

import pytest
from alert_support import Story, alert_events, alert_rows, at, seed

from portal.db.database import Database


@pytest.fixture
def engine() -> str:
    return "postgresql"


async def test_four_scanners_at_once_raise_each_alert_once(db: Database) -> None:
    story = Story(db, await seed())
    numbers = [f"PO-{n}" for n in range(1, 9)]
    for number in numbers:
        await story.issue(number, at(0))

    rounds = await asyncio.gather(*(story.scan(at(25)) for _ in range(4)))
    assert sum(r.raised for r in rounds) == len(numbers)
    rows = await alert_rows()
    assert sorted(row["subject"] for row in rows) == sorted(f"po/{n}" for n in numbers)
    for number in numbers:
        assert [e["kind"] for e in await alert_events(f"po/{number}")] == ["alert.raised"]

    rounds = await asyncio.gather(*(story.scan(at(80)) for _ in range(4)))
    assert sum(r.escalated for r in rounds) == len(numbers)
    for number in numbers:
        await story.accept(number, at(81))
    rounds = await asyncio.gather(*(story.scan(at(82)) for _ in range(4)))
    assert sum(r.resolved for r in rounds) == len(numbers)

    rows = await alert_rows()
    assert len(rows) == len(numbers)
    assert all(row["resolved_at"] == at(82) and row["level"] == "escalated" for row in rows)
    for number in numbers:
        assert [e["kind"] for e in await alert_events(f"po/{number}")] == [
            "alert.raised",
            "alert.escalated",
            "alert.resolved",
        ]
