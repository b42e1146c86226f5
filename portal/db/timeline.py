"""The event table: appending sealed events, reading a stream as an actor, verifying the chain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from portal.db import tables as t
from portal.db.codec import dump, load
from portal.db.repositories import scope_purchase_orders, scope_sales_orders
from portal.domain.actors import Actor, Side, Via
from portal.domain.errors import NotFound
from portal.domain.events import (
    GENESIS_HASH,
    ChainBreak,
    Event,
    PendingEvent,
    chain_hash,
    decode_audience,
    encode_audience,
    verify_stream,
)


class TimelineCorrupted(RuntimeError):
    """The stream head moved under a transaction that held the order's row lock: a bug."""


async def append(pending: list[PendingEvent], at: datetime) -> list[Event]:
    """Give each pending event its seq, time and hash, and insert it. Runs inside the
    command's transaction; the caller holds the row lock of each stream's order."""
    by_stream: dict[str, list[PendingEvent]] = defaultdict(list)
    for event in pending:
        by_stream[event.stream].append(event)
    written: list[Event] = []
    for stream, events in by_stream.items():
        head = await t.Stream.select().where(t.Stream.name == stream).first().run()
        if head is None:
            await t.Stream.insert(t.Stream(name=stream, last_seq=0, last_hash=GENESIS_HASH)).run()
            seq, prev = 0, GENESIS_HASH
        else:
            seq, prev = head["last_seq"], head["last_hash"]
        first_seq = seq
        rows = []
        for pending_event in events:
            seq += 1
            actor = pending_event.actor.to_data()
            audience = encode_audience(pending_event.audience)
            digest = chain_hash(
                stream=stream,
                seq=seq,
                at=at,
                actor=actor,
                via=pending_event.actor.via.value,
                kind=pending_event.kind.value,
                data=pending_event.data,
                audience=audience,
                prev_hash=prev,
            )
            rows.append(
                t.Event(
                    stream=stream,
                    seq=seq,
                    at=at,
                    actor=dump(actor),
                    via=pending_event.actor.via.value,
                    kind=pending_event.kind.value,
                    data=dump(pending_event.data),
                    audience=audience,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            written.append(
                Event(
                    stream=stream,
                    seq=seq,
                    at=at,
                    actor=actor,
                    via=pending_event.actor.via,
                    kind=pending_event.kind.value,
                    data=pending_event.data,
                    audience=pending_event.audience,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        await t.Event.insert(*rows).run()
        moved = (
            await t.Stream.update({t.Stream.last_seq: seq, t.Stream.last_hash: prev})
            .where((t.Stream.name == stream) & (t.Stream.last_seq == first_seq))
            .returning(t.Stream.id)
            .run()
        )
        if not moved:
            raise TimelineCorrupted(f"stream {stream} moved while events were appended")
    return written


def event_of(row: Mapping[str, Any]) -> Event:
    """An event row as the domain's Event."""
    return Event(
        stream=row["stream"],
        seq=row["seq"],
        at=row["at"],
        actor=load(row["actor"]),
        via=Via(row["via"]),
        kind=row["kind"],
        data=load(row["data"]),
        audience=decode_audience(row["audience"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


async def _visible_side(actor: Actor, stream: str) -> Side:
    """Which audience the actor reads `stream` as; NotFound if the order is not its own."""
    kind, _, number = stream.partition("/")
    if kind == "po":
        query = scope_purchase_orders(
            actor,
            t.PurchaseOrder.select(t.PurchaseOrder.id).where(t.PurchaseOrder.number == number),
        )
    elif kind == "so":
        query = scope_sales_orders(
            actor, t.SalesOrder.select(t.SalesOrder.id).where(t.SalesOrder.number == number)
        )
    else:
        query = None
    if query is None or not await query.first().run():
        raise NotFound("That order was not found.")
    return actor.side


async def read(actor: Actor, stream: str, *, after_seq: int = 0, limit: int = 500) -> list[Event]:
    """The events of `stream` the actor's side may read, oldest first."""
    side = await _visible_side(actor, stream)
    query = t.Event.select().where((t.Event.stream == stream) & (t.Event.seq > after_seq))
    if side != Side.INTERNAL:
        query = query.where(t.Event.audience.like(f"%{side.value}%"))
    rows = await query.order_by(t.Event.seq).limit(limit).run()
    return [event_of(row) for row in rows]


async def verify() -> list[ChainBreak]:
    """Every stream whose history no longer matches its seals (the first break of each)."""
    heads = {row["name"]: row for row in await t.Stream.select().run()}
    names = {row["stream"] for row in await t.Event.select(t.Event.stream).distinct().run()}
    breaks = []
    for name in sorted(names | heads.keys()):
        rows = await t.Event.select().where(t.Event.stream == name).order_by(t.Event.seq).run()
        found = _first_break(name, rows, heads.get(name))
        if found:
            breaks.append(found)
    return breaks


async def verify_one(stream: str) -> ChainBreak | None:
    """Where one stream's history first stops matching its seals, or None when it is intact:
    the check `verify` makes of every stream."""
    head = await t.Stream.select().where(t.Stream.name == stream).first().run()
    rows = await t.Event.select().where(t.Event.stream == stream).order_by(t.Event.seq).run()
    return _first_break(stream, rows, head)


def _first_break(
    name: str, rows: list[dict[str, Any]], head: dict[str, Any] | None
) -> ChainBreak | None:
    events, unreadable = _readable_prefix(rows)
    if unreadable is None:
        found = verify_stream(
            name,
            events,
            head["last_seq"] if head else None,
            head["last_hash"] if head else None,
        )
    else:
        # The history is broken at the first row that cannot even be decoded, unless it is
        # broken before it.
        found = verify_stream(name, events, None, None) or _unreadable(name, events, unreadable)
    if head is None and found is None and rows:
        found = ChainBreak(name, 1, "the stream has no head record")
    return found


def _readable_prefix(rows: list[dict[str, Any]]) -> tuple[list[Event], dict[str, Any] | None]:
    """The events up to the first row whose fields are no longer valid (an edited `via`,
    audience or JSON), and that row."""
    events = []
    for row in rows:
        try:
            events.append(event_of(row))
        except ValueError:  # includes json.JSONDecodeError
            return events, row
    return events, None


def _unreadable(name: str, before: list[Event], row: dict[str, Any]) -> ChainBreak:
    expected = len(before) + 1
    if row["seq"] != expected:
        return ChainBreak(name, expected, f"event {expected} is missing")
    return ChainBreak(name, expected, "its content cannot be read")
