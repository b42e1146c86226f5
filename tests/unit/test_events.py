"""Timeline events: what each command records and who may read it, how values are written,
the canonical bytes that are hashed, and the hash chain that catches edits and deletions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from domain_builders import (
    BUYER,
    CUSTOMER,
    DUE,
    NO_TOLERANCE,
    SUPPLIER,
    D,
    date_change,
    new_po,
    new_so,
    open_cr,
    po_in,
    receipt,
    ref,
    schedule,
    shipment,
)

from portal.domain.actors import Actor, Side
from portal.domain.changes import (
    ChangeKind,
    LineChange,
    TolerancePolicy,
    approve,
    cancel_order,
    counter,
    reject,
    withdraw,
)
from portal.domain.events import (
    GENESIS_HASH,
    ChainBreak,
    Event,
    EventKind,
    PendingEvent,
    audience_for,
    canonical,
    chain_hash,
    decode_audience,
    encode_audience,
    format_time,
    plain,
    verify_stream,
)
from portal.domain.states import POStatus, SOStatus

AT = datetime(2026, 11, 21, 14, 30, 5, 120, tzinfo=UTC)
INTERNAL_ONLY = (Side.INTERNAL,)
WITH_SUPPLIER = (Side.INTERNAL, Side.SUPPLIER)
WITH_CUSTOMER = (Side.INTERNAL, Side.CUSTOMER)


# What each command records ----------------------------------------------------------------


def test_creating_and_issuing() -> None:
    po = new_po()
    created, issued = po.events
    lines = [
        {
            "line_no": 1,
            "item": "BOLT-M8",
            "description": "Hex bolt M8",
            "quantity": "500",
            "unit": "ea",
            "unit_price": "0.12",
            "need_date": "2026-12-15",
        },
        {
            "line_no": 2,
            "item": "NUT-M8",
            "description": "Hex nut M8",
            "quantity": "200",
            "unit": "ea",
            "unit_price": "0.05",
            "need_date": "2026-12-20",
        },
    ]
    assert created == PendingEvent(
        stream="po/PO-1001",
        kind=EventKind.PO_CREATED,
        actor=BUYER,
        data={"supplier": "acme", "currency": "EUR", "lines": lines},
        audience=INTERNAL_ONLY,
    )
    assert issued.kind == EventKind.PO_ISSUED
    assert issued.audience == WITH_SUPPLIER
    assert issued.data == {
        "supplier": "acme",
        "currency": "EUR",
        "lines": lines,
        "status": {"before": "draft", "after": "issued"},
    }


def test_acceptance() -> None:
    po = new_po()
    po.accept(SUPPLIER, {1: schedule((300, date(2026, 12, 1)), (200, date(2026, 12, 15)))})
    event = po.events[-1]
    assert (event.kind, event.actor, event.audience) == (
        EventKind.PO_ACKNOWLEDGED,
        SUPPLIER,
        WITH_SUPPLIER,
    )
    assert event.data == {
        "decision": "accepted",
        "status": {"before": "issued", "after": "acknowledged"},
        "lines": [
            {
                "line_no": 1,
                "promise": [
                    {"quantity": "300", "date": "2026-12-01"},
                    {"quantity": "200", "date": "2026-12-15"},
                ],
            },
            {"line_no": 2, "promise": [{"quantity": "200", "date": "2026-12-20"}]},
        ],
    }


def test_acceptance_with_changes_and_rejection() -> None:
    po = new_po()
    po.accept_with_changes(SUPPLIER, {2, 1})
    assert po.events[-1].data == {
        "decision": "accepted_with_changes",
        "changed_lines": [1, 2],
        "status": {"before": "issued", "after": "changes_proposed"},
        "lines": [],
    }
    other = new_po("PO-1002")
    other.reject(SUPPLIER, "Out of stock.")
    assert other.events[-1].kind == EventKind.PO_REJECTED
    assert other.events[-1].data == {
        "decision": "rejected",
        "reason": "Out of stock.",
        "status": {"before": "issued", "after": "rejected"},
    }
    assert other.events[-1].audience == WITH_SUPPLIER


def test_a_promise_change() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.change_promise(SUPPLIER, 2, schedule((200, date(2027, 1, 4))), "logistics", "Port strike.")
    event = po.events[-1]
    assert (event.kind, event.audience) == (EventKind.PROMISE_CHANGED, WITH_SUPPLIER)
    assert event.data == {
        "line_no": 2,
        "before": [{"quantity": "200", "date": "2026-12-20"}],
        "after": [{"quantity": "200", "date": "2027-01-04"}],
        "reason_code": "logistics",
        "comment": "Port strike.",
    }


def test_shipment_and_receipt() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    notice = shipment((1, 500), (2, 200))
    po.post_shipment(SUPPLIER, notice, NO_TOLERANCE)
    assert po.events[-1].kind == EventKind.SHIPMENT_POSTED
    assert po.events[-1].audience == WITH_SUPPLIER
    assert po.events[-1].data == {
        "shipment": notice.to_data(),
        "status": {"before": "acknowledged", "after": "shipped"},
    }
    counted = receipt((1, 500, 3), (2, 200))
    po.record_receipt(BUYER, counted, NO_TOLERANCE)
    assert po.events[-1].kind == EventKind.RECEIPT_RECORDED
    assert po.events[-1].audience == WITH_SUPPLIER
    # 3 turned away: the supplier owes them again, so the order is back in fulfilment.
    assert po.events[-1].data == {
        "receipt": counted.to_data(),
        "status": {"before": "shipped", "after": "in_fulfilment"},
    }
    replacement = shipment((1, 3), number="ASN-2")
    po.post_shipment(SUPPLIER, replacement, NO_TOLERANCE)
    assert po.events[-1].data == {
        "shipment": replacement.to_data(),
        "status": {"before": "in_fulfilment", "after": "shipped"},
    }
    last = receipt((1, 3), number="GR-2")
    po.record_receipt(BUYER, last, NO_TOLERANCE)
    assert po.events[-1].data == {
        "receipt": last.to_data(),
        "status": {"before": "shipped", "after": "received"},
    }


def test_a_receipt_that_turns_nothing_away_leaves_a_shipped_order_shipped() -> None:
    po = po_in(POStatus.SHIPPED)
    counted = receipt((1, 500))
    po.record_receipt(BUYER, counted, NO_TOLERANCE)
    assert po.events[-1].data == {
        "receipt": counted.to_data(),
        "status": {"before": "shipped", "after": "shipped"},
    }


def test_cancel_and_close() -> None:
    po = new_po()
    po.cancel(BUYER, "Duplicate.")
    assert (po.events[-1].kind, po.events[-1].audience) == (
        EventKind.PO_CANCELLED,
        WITH_SUPPLIER,
    )
    assert po.events[-1].data == {
        "reason": "Duplicate.",
        "status": {"before": "issued", "after": "cancelled"},
        "change_requests_closed": [],
    }
    done = po_in(POStatus.RECEIVED)
    done.close(BUYER)
    assert done.events[-1].kind == EventKind.PO_CLOSED
    assert done.events[-1].data == {
        "status": {"before": "received", "after": "closed"},
        "short": [],
    }
    assert done.events[-1].audience == WITH_SUPPLIER


def test_closing_short_names_what_did_not_arrive() -> None:
    po = po_in(POStatus.SHIPPED)
    po.record_receipt(BUYER, receipt((1, "450.5"), (2, 200)), NO_TOLERANCE)
    po.close(BUYER)
    assert (po.events[-1].kind, po.events[-1].audience) == (EventKind.PO_CLOSED, WITH_SUPPLIER)
    assert po.events[-1].data == {
        "status": {"before": "shipped", "after": "closed"},
        "short": [{"line_no": 1, "quantity": "500", "received": "450.5"}],
    }


def test_cancelling_an_order_names_the_change_requests_it_closes() -> None:
    po = new_po()
    po.accept_with_changes(SUPPLIER, {1})
    cr = open_cr(po, SUPPLIER, date_change(1, (500, date(2027, 1, 10))), from_acknowledgement=True)
    cancel_order(po, BUYER, "Project stopped.", [cr])
    assert (po.events[-1].kind, po.events[-1].actor, po.events[-1].audience) == (
        EventKind.PO_CANCELLED,
        BUYER,
        WITH_SUPPLIER,
    )
    assert po.events[-1].data == {
        "reason": "Project stopped.",
        "status": {"before": "changes_proposed", "after": "cancelled"},
        "change_requests_closed": ["PO-1001-CR1"],
    }


def test_comments() -> None:
    po = new_po()
    po.comment(SUPPLIER, "Can we split the delivery? — 谢谢")
    po.comment(BUYER, "They always ask.", internal_only=True)
    shared, note = po.events[-2:]
    assert (shared.kind, shared.audience, shared.actor) == (
        EventKind.COMMENT_ADDED,
        WITH_SUPPLIER,
        SUPPLIER,
    )
    assert shared.data == {"text": "Can we split the delivery? — 谢谢"}
    assert note.audience == INTERNAL_ONLY


def test_change_request_events() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    price = LineChange(1, ChangeKind.PRICE, unit_price=D("0.10"))
    first = open_cr(po, BUYER, price, reason_code="buyer_request", comment="Volume deal.")
    assert po.events[-1].data == {
        "number": "PO-1001-CR1",
        "round": 1,
        "opened_by": "internal",
        "reason_code": "buyer_request",
        "comment": "Volume deal.",
        "changes": [{"line_no": 1, "kind": "price", "unit_price": "0.1"}],
        "supersedes": None,
        "due_at": "2026-11-23T09:00:00.000000Z",
    }
    second = counter(
        po,
        first,
        SUPPLIER,
        changes=(LineChange(1, ChangeKind.PRICE, unit_price=D("0.11")),),
        reason_code="other",
        comment="Meet halfway.",
        due_at=DUE + timedelta(hours=1),
    )
    countered, reopened = po.events[-2:]
    assert (countered.kind, countered.actor) == (EventKind.CR_COUNTERED, SUPPLIER)
    assert reopened.data["supersedes"] == "PO-1001-CR1"
    assert reopened.data["round"] == 2
    assert reopened.data["opened_by"] == "supplier"
    assert reopened.data["due_at"] == "2026-11-23T10:00:00.000000Z"
    reject(po, second, BUYER, "No.")
    assert po.events[-1].kind == EventKind.CR_REJECTED
    third = open_cr(po, BUYER, price)
    withdraw(po, third, BUYER, "Changed my mind.")
    assert po.events[-1].kind == EventKind.CR_WITHDRAWN
    assert po.events[-1].data == {
        "number": "PO-1001-CR3",
        "comment": "Changed my mind.",
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    fourth = open_cr(po, BUYER, price)
    approve(po, fourth, SUPPLIER, "OK")
    assert po.events[-1].kind == EventKind.CR_APPROVED
    assert po.events[-1].data == {
        "number": "PO-1001-CR4",
        "comment": "OK",
        "applied": [{"line_no": 1, "kind": "price", "before": "0.12", "after": "0.1"}],
        "status": {"before": "acknowledged", "after": "acknowledged"},
    }
    assert all(event.audience == WITH_SUPPLIER for event in po.events[2:])


def test_an_approval_lists_the_promise_a_quantity_change_resized() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    cr = open_cr(
        po,
        BUYER,
        LineChange(1, ChangeKind.QUANTITY, quantity=D(450)),
        LineChange(2, ChangeKind.PRICE, unit_price=D("0.04")),
    )
    approve(po, cr, SUPPLIER)
    assert po.events[-1].data["applied"] == [
        {"line_no": 1, "kind": "quantity", "before": "500", "after": "450"},
        {"line_no": 2, "kind": "price", "before": "0.05", "after": "0.04"},
        {
            "line_no": 1,
            "kind": "promise",
            "before": [{"quantity": "500", "date": "2026-12-15"}],
            "after": [{"quantity": "450", "date": "2026-12-15"}],
        },
    ]


def test_an_auto_approval_is_the_systems_doing() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    open_cr(
        po,
        SUPPLIER,
        date_change(1, (500, date(2026, 12, 16))),
        policy=TolerancePolicy(max_date_move_days=1),
    )
    event = po.events[-1]
    assert event.kind == EventKind.CR_AUTO_APPROVED
    assert event.actor == Actor.system()
    assert event.actor.via.value == "system"
    assert event.audience == WITH_SUPPLIER


def test_sales_order_events() -> None:
    po = po_in(POStatus.ACKNOWLEDGED)
    so = new_so()
    so.link_line(BUYER, 1, ref(po, 1), po.line(1), 1)
    so.comment(CUSTOMER, "Thanks!")
    so.ship(BUYER, "UPS", "1Z", date(2026, 12, 16))
    so.deliver(BUYER, date(2026, 12, 17))
    so.close(BUYER)
    assert [(event.kind, event.audience) for event in so.events] == [
        (EventKind.SO_CREATED, WITH_CUSTOMER),
        (EventKind.LINE_LINKED, INTERNAL_ONLY),
        (EventKind.EXPECTED_DATE_CHANGED, WITH_CUSTOMER),
        (EventKind.COMMENT_ADDED, WITH_CUSTOMER),
        (EventKind.SO_SHIPPED, WITH_CUSTOMER),
        (EventKind.SO_DELIVERED, WITH_CUSTOMER),
        (EventKind.SO_CLOSED, WITH_CUSTOMER),
    ]
    assert all(event.stream == "so/SO-2001" for event in so.events)
    assert so.events[5].data == {
        "delivered_on": "2026-12-17",
        "status": {"before": "shipped", "after": "delivered"},
    }
    cancelled = new_so(number="SO-2002")
    cancelled.cancel(BUYER, "Customer withdrew.")
    assert cancelled.status == SOStatus.CANCELLED
    assert cancelled.events[-1].kind == EventKind.SO_CANCELLED
    assert cancelled.events[-1].data["reason"] == "Customer withdrew."


def test_a_customer_never_reads_a_purchase_order_and_a_supplier_never_a_sales_order() -> None:
    po = po_in(POStatus.CLOSED)
    so = new_so()
    so.comment(BUYER, "note")
    assert all(Side.CUSTOMER not in event.audience for event in po.events)
    assert all(Side.SUPPLIER not in event.audience for event in so.events)


def test_every_recorded_value_is_plain_json() -> None:
    po = po_in(POStatus.CLOSED)
    for event in po.events:
        assert json.loads(json.dumps(event.data)) == event.data


# Plain values -----------------------------------------------------------------------------


class Colour(StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.000"), "0"),
        (Decimal("-2.500"), "-2.5"),
        (date(2026, 2, 3), "2026-02-03"),
        (datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC), "2026-02-03T04:05:06.000000Z"),
        (Colour.RED, "red"),
        (POStatus.IN_FULFILMENT, "in_fulfilment"),
        ((1, "a", None, True), [1, "a", None, True]),
        ({1: {"x": Decimal("2.0")}}, {"1": {"x": "2"}}),
        ([date(2026, 1, 1), (Decimal(3),)], ["2026-01-01", ["3"]]),
        ("text", "text"),
        (None, None),
        (7, 7),
    ],
)
def test_plain(value: object, written: object) -> None:
    assert plain(value) == written


def test_a_time_is_always_written_in_utc_with_microseconds() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert format_time(datetime(2026, 1, 1, 8, 0, tzinfo=shanghai)) == (
        "2026-01-01T00:00:00.000000Z"
    )
    assert format_time(datetime(2026, 1, 1, 0, 0, 0, 7, tzinfo=UTC)) == (
        "2026-01-01T00:00:00.000007Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))


def test_audiences() -> None:
    assert audience_for("po/X", external=True) == WITH_SUPPLIER
    assert audience_for("so/X", external=True) == WITH_CUSTOMER
    assert audience_for("po/X", external=False) == INTERNAL_ONLY
    assert encode_audience(WITH_SUPPLIER) == "internal,supplier"
    assert decode_audience("internal,customer") == WITH_CUSTOMER
    assert decode_audience("") == ()


# Canonical encoding -----------------------------------------------------------------------

FIELDS = {
    "stream": "po/PO-1",
    "seq": 3,
    "at": AT,
    "actor": {"name": "Zoë 张", "id": "u1"},
    "via": "web",
    "kind": "comment.added",
    "data": {"text": "ok", "b": [1, 2]},
    "audience": "internal,supplier",
    "prev_hash": GENESIS_HASH,
}

EXPECTED_BYTES = (
    '{"actor":{"id":"u1","name":"Zoë 张"},"at":"2026-11-21T14:30:05.000120Z",'
    '"audience":"internal,supplier","data":{"b":[1,2],"text":"ok"},"kind":"comment.added",'
    f'"prev_hash":"{GENESIS_HASH}","seq":3,"stream":"po/PO-1","via":"web"}}'
).encode()


def test_the_canonical_bytes() -> None:
    assert canonical(**FIELDS) == EXPECTED_BYTES  # type: ignore[arg-type]
    assert chain_hash(**FIELDS) == hashlib.sha256(EXPECTED_BYTES).hexdigest()


def test_the_canonical_bytes_do_not_depend_on_key_order_or_time_zone() -> None:
    reordered = dict(reversed(list(FIELDS.items())))
    reordered["data"] = {"b": [1, 2], "text": "ok"}
    reordered["actor"] = {"id": "u1", "name": "Zoë 张"}
    reordered["at"] = AT.astimezone(timezone(timedelta(hours=-5)))
    assert canonical(**reordered) == EXPECTED_BYTES  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stream", "po/PO-2"),
        ("seq", 4),
        ("at", AT + timedelta(microseconds=1)),
        ("actor", {"name": "Zoe 张", "id": "u1"}),
        ("via", "api"),
        ("kind", "comment.edited"),
        ("data", {"text": "ok.", "b": [1, 2]}),
        ("audience", "internal"),
        ("prev_hash", "1" * 64),
    ],
)
def test_every_field_is_sealed(field: str, value: object) -> None:
    assert chain_hash(**{**FIELDS, field: value}) != chain_hash(**FIELDS)


# The hash chain ---------------------------------------------------------------------------


def seal(pending: list[PendingEvent], start: datetime = AT) -> list[Event]:
    """Give each event its place, time and hash, as the unit of work does at commit."""
    sealed: list[Event] = []
    prev = GENESIS_HASH
    for seq, event in enumerate(pending, start=1):
        at = start + timedelta(seconds=seq)
        fields = {
            "stream": event.stream,
            "seq": seq,
            "at": at,
            "actor": event.actor.to_data(),
            "via": event.actor.via.value,
            "kind": event.kind.value,
            "data": event.data,
            "audience": encode_audience(event.audience),
            "prev_hash": prev,
        }
        digest = chain_hash(**fields)
        sealed.append(
            Event(
                stream=event.stream,
                seq=seq,
                at=at,
                actor=event.actor.to_data(),
                via=event.actor.via,
                kind=event.kind.value,
                data=event.data,
                audience=event.audience,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return sealed


def reseal(event: Event) -> Event:
    """What someone who knows the scheme does after editing an event: recompute its hash."""
    return dataclasses.replace(
        event,
        hash=chain_hash(
            stream=event.stream,
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            via=event.via.value,
            kind=event.kind,
            data=event.data,
            audience=encode_audience(event.audience),
            prev_hash=event.prev_hash,
        ),
    )


STREAM = "po/PO-1001"


@pytest.fixture
def history() -> list[Event]:
    po = po_in(POStatus.ACKNOWLEDGED)
    po.change_promise(SUPPLIER, 1, schedule((500, date(2027, 1, 4))), "capacity")
    po.comment(BUYER, "Noted.", internal_only=True)
    events = seal(po.events)
    assert len(events) == 5
    return events


def verify(rows: list[Event], head: Event | None) -> ChainBreak | None:
    return verify_stream(STREAM, rows, head.seq if head else 0, head.hash if head else None)


def test_an_intact_chain_verifies(history: list[Event]) -> None:
    assert verify(history, history[-1]) is None
    assert verify_stream(STREAM, history, None, None) is None


def test_an_empty_stream_verifies() -> None:
    assert verify_stream(STREAM, [], 0, GENESIS_HASH) is None


@pytest.mark.parametrize(
    "edit",
    [
        {"data": {"line_no": 1, "before": None, "after": [], "reason_code": "x", "comment": ""}},
        {"at": AT},
        {"actor": {**BUYER.to_data(), "name": "Someone Else"}},
        {"audience": INTERNAL_ONLY},
        {"kind": "comment.added"},
    ],
    ids=["data", "at", "actor", "audience", "kind"],
)
def test_an_edited_event_is_caught(history: list[Event], edit: dict[str, object]) -> None:
    rows = list(history)
    rows[3] = dataclasses.replace(rows[3], **edit)  # type: ignore[arg-type]
    assert verify(rows, history[-1]) == ChainBreak(STREAM, 4, "its content was altered")


def test_an_edited_and_resealed_event_breaks_the_link_to_the_next(history: list[Event]) -> None:
    rows = list(history)
    rows[1] = reseal(dataclasses.replace(rows[1], data={"supplier": "evil", "lines": []}))
    assert verify(rows, history[-1]) == ChainBreak(STREAM, 3, "does not follow the event before it")


def test_an_edited_and_resealed_last_event_is_caught_by_the_head(history: list[Event]) -> None:
    rows = list(history)
    rows[-1] = reseal(dataclasses.replace(rows[-1], data={"text": "Never mind."}))
    assert verify(rows, history[-1]) == ChainBreak(
        STREAM, 5, "is not the last event the stream recorded"
    )


def test_a_deleted_event_in_the_middle_is_caught(history: list[Event]) -> None:
    rows = history[:2] + history[3:]
    assert verify(rows, history[-1]) == ChainBreak(STREAM, 3, "event 3 is missing")


def test_a_deleted_first_event_is_caught(history: list[Event]) -> None:
    assert verify(history[1:], history[-1]) == ChainBreak(STREAM, 1, "event 1 is missing")


def test_a_deleted_last_event_is_caught_by_the_head_seq(history: list[Event]) -> None:
    assert verify(history[:-1], history[-1]) == ChainBreak(STREAM, 5, "event 5 is missing")


def test_a_deleted_last_event_is_caught_by_the_head_hash(history: list[Event]) -> None:
    assert verify_stream(STREAM, history[:-1], None, history[-1].hash) == ChainBreak(
        STREAM, 4, "is not the last event the stream recorded"
    )


def test_without_the_head_a_deleted_last_event_cannot_be_seen(history: list[Event]) -> None:
    # Why the stream table keeps its head: the rows alone still form a valid chain.
    assert verify_stream(STREAM, history[:-1], None, None) is None


def test_a_swapped_pair_is_caught(history: list[Event]) -> None:
    rows = list(history)
    rows[1], rows[2] = rows[2], rows[1]
    broken = verify(rows, history[-1])
    assert broken is not None
    assert broken.seq == 2


def test_a_swapped_pair_with_renumbered_seqs_is_caught(history: list[Event]) -> None:
    rows = list(history)
    rows[1], rows[2] = (
        dataclasses.replace(history[2], seq=2),
        dataclasses.replace(history[1], seq=3),
    )
    assert verify(rows, history[-1]) == ChainBreak(STREAM, 2, "does not follow the event before it")


def test_a_swapped_pair_resealed_in_place_is_caught(history: list[Event]) -> None:
    # Even re-hashing each moved event does not hide the swap: the next link no longer fits.
    rows = list(history)
    rows[1] = reseal(dataclasses.replace(history[2], seq=2, prev_hash=history[0].hash))
    rows[2] = reseal(dataclasses.replace(history[1], seq=3, prev_hash=rows[1].hash))
    assert verify(rows, history[-1]) == ChainBreak(STREAM, 4, "does not follow the event before it")


def test_an_event_moved_from_another_stream_is_caught(history: list[Event]) -> None:
    other = seal(po_in(POStatus.ACKNOWLEDGED, number="PO-1002").events)
    rows = [*history[:2], other[2], *history[3:]]
    broken = verify(rows, history[-1])
    assert broken is not None
    assert broken.seq == 3
