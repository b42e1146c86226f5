"""History cannot be rewritten unnoticed: an event edited, deleted or moved with plain SQL is
found by `timeline.verify()` and by `portal verify-timeline`, which name the first broken stream
and seq (exit status 1); an intact database passes (exit status 0)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from integration_support import BUYER, SUPPLIER, World, on, run_cli

from portal.db import tables as t
from portal.db import timeline
from portal.domain.changes import TolerancePolicy
from portal.domain.events import ChainBreak
from portal.services.comments import AddComment, OrderKind, add_comment
from portal.services.promises import UpdatePromise, update_promise
from portal.services.unit_of_work import Rules

PO = "po/PO-1"


async def history(world: World) -> None:
    """po/PO-1: 1 created, 2 issued, 3 acknowledged, 4 promise changed, 5 comment;
    so/SO-1: 1 created, 2 linked, 3 date derived at link, 4 date moved by the promise."""
    po = await world.acknowledged_po()
    await world.create_so()
    await world.link("SO-1", 1, "PO-1", 1)
    await update_promise(
        world.uow(rules=Rules(tolerance=TolerancePolicy(max_date_move_days=7))),  # at once
        SUPPLIER,
        UpdatePromise("PO-1", po.version, 1, on(date(2026, 4, 17)), "capacity", "sorry"),
    )
    await add_comment(world.uow(), BUYER, AddComment(OrderKind.PURCHASE, "PO-1", "noted"))
    assert [e["kind"] for e in await world.events(PO)] == [
        "po.created",
        "po.issued",
        "po.acknowledged",
        "line.promise_changed",
        "comment.added",
    ]
    assert await world.head("so/SO-1") == 4


async def swap_content(world: World, first: int, second: int) -> None:
    """Everything but the seq (and the row id) changes places between two events."""
    columns = [t.Event.at, t.Event.actor, t.Event.via, t.Event.kind, t.Event.data]
    columns += [t.Event.audience, t.Event.prev_hash, t.Event.hash]
    rows = {}
    for seq in (first, second):
        rows[seq] = (
            await t.Event.select(*columns)
            .where((t.Event.stream == PO) & (t.Event.seq == seq))
            .first()
            .run()
        )
    for seq, other in ((first, second), (second, first)):
        await (
            t.Event.update({getattr(t.Event, name): value for name, value in rows[other].items()})
            .where((t.Event.stream == PO) & (t.Event.seq == seq))
            .run()
        )


def sql(*statements: str) -> Callable[[World], Awaitable[None]]:
    async def run(world: World) -> None:
        for statement in statements:
            await world.db.engine.run_ddl(statement)

    return run


WHERE = "WHERE stream = 'po/PO-1' AND seq = {}"

TAMPERING: dict[str, tuple[Callable[[World], Awaitable[None]], ChainBreak]] = {
    "edited data": (
        sql(
            'UPDATE event SET data = \'{"decision":"rejected","lines":[],'
            '"status":{"after":"acknowledged","before":"issued"}}\' ' + WHERE.format(3)
        ),
        ChainBreak(PO, 3, "its content was altered"),
    ),
    "edited actor": (
        sql(
            'UPDATE event SET actor = \'{"id":"u-eve","kind":"user","name":"Eve",'
            '"org":"SUP1","role":null,"side":"supplier"}\' ' + WHERE.format(2)
        ),
        ChainBreak(PO, 2, "its content was altered"),
    ),
    "edited time": (
        sql("UPDATE event SET at = '2026-03-01 08:00:00+00:00' " + WHERE.format(4)),
        ChainBreak(PO, 4, "its content was altered"),
    ),
    "edited kind": (
        sql("UPDATE event SET kind = 'po.rejected' " + WHERE.format(3)),
        ChainBreak(PO, 3, "its content was altered"),
    ),
    "widened audience": (
        sql("UPDATE event SET audience = 'internal,supplier' " + WHERE.format(1)),
        ChainBreak(PO, 1, "its content was altered"),
    ),
    "deleted in the middle": (
        sql("DELETE FROM event " + WHERE.format(3)),
        ChainBreak(PO, 3, "event 3 is missing"),
    ),
    "deleted the last": (
        sql("DELETE FROM event " + WHERE.format(5)),
        ChainBreak(PO, 5, "event 5 is missing"),
    ),
    "deleted the last and its head": (
        sql(
            "DELETE FROM event " + WHERE.format(5),
            "UPDATE stream SET last_seq = 4 WHERE name = 'po/PO-1'",
        ),
        ChainBreak(PO, 4, "is not the last event the stream recorded"),
    ),
    "swapped seq": (
        sql(
            "UPDATE event SET seq = -1 " + WHERE.format(3),
            "UPDATE event SET seq = 3 " + WHERE.format(4),
            "UPDATE event SET seq = 4 " + WHERE.format(-1),
        ),
        ChainBreak(PO, 3, "does not follow the event before it"),
    ),
    "swapped content": (
        lambda world: swap_content(world, 3, 4),
        ChainBreak(PO, 3, "does not follow the event before it"),
    ),
    "deleted head record": (
        sql("DELETE FROM stream WHERE name = 'po/PO-1'"),
        ChainBreak(PO, 1, "the stream has no head record"),
    ),
}


async def test_an_intact_history_verifies(world: World) -> None:
    await history(world)
    assert await timeline.verify() == []
    result = run_cli("verify-timeline", database_url=world.db.url)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "portal: every timeline is intact.\n"


@pytest.mark.parametrize("tampering", TAMPERING)
async def test_tampering_is_found(world: World, tampering: str) -> None:
    await history(world)
    tamper, expected = TAMPERING[tampering]
    await tamper(world)

    assert await timeline.verify() == [expected]

    result = run_cli("verify-timeline", database_url=world.db.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        f"portal: timeline broken: stream {expected.stream} at seq {expected.seq}: "
        f"{expected.reason}\n"
    )


async def test_every_broken_stream_is_reported(world: World) -> None:
    await history(world)
    await sql(
        "UPDATE event SET kind = 'so.cancelled' WHERE stream = 'so/SO-1' AND seq = 2",
        "DELETE FROM event " + WHERE.format(2),
    )(world)
    assert await timeline.verify() == [
        ChainBreak(PO, 2, "event 2 is missing"),
        ChainBreak("so/SO-1", 2, "its content was altered"),
    ]
    result = run_cli("verify-timeline", database_url=world.db.url)
    assert result.returncode == 1
    assert "stream po/PO-1 at seq 2" in result.stderr
    assert "(and 1 more stream(s))" in result.stderr


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event SET via = 'fax' " + WHERE.format(3),
        "UPDATE event SET audience = 'internal,martian' " + WHERE.format(3),
    ],
    ids=["via", "audience"],
)
async def test_an_unreadable_event_is_reported_not_crashed_on(world: World, statement: str) -> None:
    await history(world)
    await sql(statement)(world)
    assert await timeline.verify() == [ChainBreak(PO, 3, "its content cannot be read")]
    result = run_cli("verify-timeline", database_url=world.db.url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "stream po/PO-1 at seq 3: its content cannot be read" in result.stderr
