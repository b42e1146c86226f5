"""Every read and write is confined to the actor's organisation in the data layer: an order of
another organisation is reported exactly like one that does not exist, and a timeline shows a
party only the events addressed to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from integration_support import (
    BUYER,
    CUSTOMER,
    OTHER_CUSTOMER,
    OTHER_SUPPLIER,
    SALES,
    SUPPLIER,
    World,
    on,
)

from portal.db import timeline
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.errors import NotFound
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.change_requests import (
    DecideChangeRequest,
    OpenChangeRequest,
    Verdict,
    decide_change_request,
    open_change_request,
)
from portal.services.comments import AddComment, OrderKind, add_comment
from portal.services.fulfilment import PostShipment, post_shipment
from portal.services.promises import UpdatePromise, update_promise

ORPHAN_SUPPLIER = Actor(ActorKind.USER, "u-x", None, Side.SUPPLIER, "No Org", Via.WEB)


async def orders(world: World) -> None:
    """PO-1 (SUP1), acknowledged, with an open buyer change request PO-1-CR1 and an internal
    note; SO-1 (CUS1) linked to it, with an internal note."""
    po = await world.acknowledged_po()
    await open_change_request(
        world.uow(),
        BUYER,
        OpenChangeRequest(
            "PO-1",
            po.version,
            (LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(120)),),
            "buyer_request",
        ),
    )
    await add_comment(
        world.uow(), BUYER, AddComment(OrderKind.PURCHASE, "PO-1", "watch them", True)
    )
    await add_comment(world.uow(), SUPPLIER, AddComment(OrderKind.PURCHASE, "PO-1", "on it"))
    await world.create_so()
    await world.link("SO-1", 1, "PO-1", 1)
    await add_comment(world.uow(), SALES, AddComment(OrderKind.SALES, "SO-1", "VIP", True))


def commands_on_po_1(world: World, version: int) -> dict[str, Callable[[Actor], Awaitable[Any]]]:
    shipment = Shipment("ASN-1", date(2026, 4, 1), "DHL", "", None, (ShipmentLine(1, Decimal(1)),))
    return {
        "acknowledge": lambda actor: acknowledge(
            world.uow(), actor, Acknowledge("PO-1", version, Decision.REJECT, reason="x")
        ),
        "update_promise": lambda actor: update_promise(
            world.uow(), actor, UpdatePromise("PO-1", version, 1, on(date(2026, 5, 1)), "other")
        ),
        "decide_change_request": lambda actor: decide_change_request(
            world.uow(), actor, DecideChangeRequest("PO-1-CR1", 1, Verdict.APPROVE)
        ),
        "open_change_request": lambda actor: open_change_request(
            world.uow(),
            actor,
            OpenChangeRequest(
                "PO-1",
                version,
                (LineChange(1, ChangeKind.DATE, schedule=on(date(2026, 5, 1))),),
                "other",
            ),
        ),
        "post_shipment": lambda actor: post_shipment(
            world.uow(), actor, PostShipment("PO-1", version, shipment)
        ),
        "add_comment": lambda actor: add_comment(
            world.uow(), actor, AddComment(OrderKind.PURCHASE, "PO-1", "hello")
        ),
    }


async def not_found_message(world: World, actor: Actor, number: str) -> str:
    uow = world.uow()
    async with uow:
        with pytest.raises(NotFound) as missing:
            await uow.purchase_orders.get(actor, number)
    return missing.value.message


@pytest.mark.parametrize(
    "outsider", [OTHER_SUPPLIER, CUSTOMER, ORPHAN_SUPPLIER], ids=lambda a: a.name
)
async def test_an_outsider_cannot_load_a_purchase_order(world: World, outsider: Actor) -> None:
    await orders(world)
    # Exactly what anyone is told about an order that does not exist.
    assert await not_found_message(world, outsider, "PO-1") == "Purchase order PO-1 was not found."
    assert await not_found_message(world, BUYER, "PO-404") == "Purchase order PO-404 was not found."
    uow = world.uow()
    async with uow:
        for insider in (BUYER, SUPPLIER):
            assert (await uow.purchase_orders.get(insider, "PO-1")).number == "PO-1"


@pytest.mark.parametrize(
    "command",
    [
        "acknowledge",
        "update_promise",
        "decide_change_request",
        "open_change_request",
        "post_shipment",
        "add_comment",
    ],
)
@pytest.mark.parametrize("outsider", [OTHER_SUPPLIER, CUSTOMER], ids=["other_supplier", "customer"])
async def test_an_outsider_gets_not_found_from_every_purchase_order_command(
    world: World, command: str, outsider: Actor
) -> None:
    await orders(world)
    version = (await world.po_row("PO-1"))["version"]
    before = await world.snapshot()
    with pytest.raises(NotFound, match=r"(Purchase order PO-1|Change request PO-1-CR1) was not"):
        await commands_on_po_1(world, version)[command](outsider)
    assert await world.snapshot() == before


async def test_the_own_supplier_passes_the_same_checks(world: World) -> None:
    """The refusals above are about the organisation: SUP1 itself gets through."""
    await orders(world)
    version = (await world.po_row("PO-1"))["version"]
    decided = await commands_on_po_1(world, version)["decide_change_request"](SUPPLIER)
    assert decided.change_request.status == "approved"


@pytest.mark.parametrize("outsider", [OTHER_CUSTOMER, SUPPLIER], ids=["other_customer", "supplier"])
async def test_an_outsider_cannot_load_or_comment_on_a_sales_order(
    world: World, outsider: Actor
) -> None:
    await orders(world)
    uow = world.uow()
    async with uow:
        with pytest.raises(NotFound, match=r"^Sales order SO-1 was not found\.$"):
            await uow.sales_orders.get(outsider, "SO-1")
        assert (await uow.sales_orders.get(CUSTOMER, "SO-1")).number == "SO-1"
    before = await world.snapshot()
    with pytest.raises(NotFound):
        await add_comment(world.uow(), outsider, AddComment(OrderKind.SALES, "SO-1", "hi"))
    assert await world.snapshot() == before


async def test_a_change_request_is_invisible_outside_its_supplier(world: World) -> None:
    await orders(world)
    uow = world.uow()
    async with uow:
        for outsider in (OTHER_SUPPLIER, CUSTOMER, OTHER_CUSTOMER, ORPHAN_SUPPLIER):
            with pytest.raises(NotFound, match=r"^Change request PO-1-CR1 was not found\.$"):
                await uow.change_requests.get(outsider, "PO-1-CR1")
        assert (await uow.change_requests.get(SUPPLIER, "PO-1-CR1")).po_number == "PO-1"


# Timelines ---------------------------------------------------------------------------------


async def test_the_supplier_reads_only_what_is_addressed_to_it(world: World) -> None:
    await orders(world)
    everything = await timeline.read(BUYER, "po/PO-1")
    assert [e.kind for e in everything] == [
        "po.created",
        "po.issued",
        "po.acknowledged",
        "cr.opened",
        "comment.added",
        "comment.added",
    ]
    seen = await timeline.read(SUPPLIER, "po/PO-1")
    assert [(e.seq, e.kind) for e in seen] == [
        (2, "po.issued"),
        (3, "po.acknowledged"),
        (4, "cr.opened"),
        (6, "comment.added"),
    ]
    assert all(Side.SUPPLIER in e.audience for e in seen)
    assert [e.seq for e in everything if Side.SUPPLIER in e.audience] == [e.seq for e in seen]
    # The same events, not a copy: identical seals.
    by_seq = {e.seq: e for e in everything}
    assert all(by_seq[e.seq] == e for e in seen)
    assert [e.seq for e in await timeline.read(SUPPLIER, "po/PO-1", after_seq=3)] == [4, 6]


async def test_the_customer_reads_only_its_customer_visible_events(world: World) -> None:
    await orders(world)
    everything = await timeline.read(SALES, "so/SO-1")
    assert [e.kind for e in everything] == [
        "so.created",
        "line.linked",
        "line.expected_date_changed",
        "comment.added",
    ]
    seen = await timeline.read(CUSTOMER, "so/SO-1")
    assert [(e.seq, e.kind) for e in seen] == [(1, "so.created"), (3, "line.expected_date_changed")]
    assert all(Side.CUSTOMER in e.audience for e in seen)


@pytest.mark.parametrize(
    ("reader", "stream"),
    [
        (OTHER_SUPPLIER, "po/PO-1"),
        (CUSTOMER, "po/PO-1"),
        (ORPHAN_SUPPLIER, "po/PO-1"),
        (OTHER_CUSTOMER, "so/SO-1"),
        (SUPPLIER, "so/SO-1"),
        (BUYER, "po/PO-404"),
        (BUYER, "xx/PO-1"),
        (BUYER, "PO-1"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
async def test_a_timeline_of_an_order_one_may_not_see_is_not_found(
    world: World, reader: Actor, stream: str
) -> None:
    await orders(world)
    with pytest.raises(NotFound, match=r"^That order was not found\.$"):
        await timeline.read(reader, stream)


async def test_a_draft_is_not_the_suppliers_to_see_until_it_is_issued(world: World) -> None:
    await world.issue_po("PO-7", draft=True)
    assert await not_found_message(world, SUPPLIER, "PO-7") == "Purchase order PO-7 was not found."
    with pytest.raises(NotFound):
        await timeline.read(SUPPLIER, "po/PO-7")
    uow = world.uow()
    async with uow:
        assert (await uow.purchase_orders.get(BUYER, "PO-7")).status == "draft"
