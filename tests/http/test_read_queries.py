"""The read-side queries confine every answer to the actor, like the commands do: a supplier
reads only its own purchase orders, a customer only its own sales orders, and an order that is
not theirs does not exist for them."""

from __future__ import annotations

import pytest
from http_story import BUYER, tell_the_story

from portal.db import queries
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.errors import NotFound

ACME = Actor(ActorKind.USER, "u-acme", "ACME", Side.SUPPLIER, "Li Lei", Via.WEB)
BOLT = Actor(ActorKind.USER, "u-bolt", "BOLT", Side.SUPPLIER, "Zhang Wei", Via.WEB)
CONTOSO = Actor(ActorKind.USER, "u-cust", "CUST", Side.CUSTOMER, "Carl", Via.WEB)
STRANGER = Actor(ActorKind.USER, "u-x", "OTHER", Side.CUSTOMER, "Xavier", Via.WEB)


async def numbers(actor: Actor) -> tuple[list[str], list[str]]:
    pos = await queries.purchase_orders(actor)
    sos = await queries.sales_orders(actor)
    return [row.number for row in pos.items], [row.number for row in sos.items]


async def test_each_actor_reads_only_its_own_orders(db: Database) -> None:
    await tell_the_story(db)
    assert await numbers(BUYER) == (["PO-2", "PO-1"], ["SO-1"])
    assert await numbers(ACME) == (["PO-1"], [])
    assert await numbers(BOLT) == (["PO-2"], [])
    assert await numbers(CONTOSO) == ([], ["SO-1"])
    assert await numbers(STRANGER) == ([], [])
    assert (await queries.purchase_orders(BOLT)).total == 1


async def test_another_partys_order_does_not_exist(db: Database) -> None:
    await tell_the_story(db)
    assert (await queries.purchase_order(ACME, "PO-1")).supplier == "ACME"
    with pytest.raises(NotFound):
        await queries.purchase_order(BOLT, "PO-1")
    with pytest.raises(NotFound):
        await queries.purchase_order(CONTOSO, "PO-1")
    with pytest.raises(NotFound):
        await queries.sales_order(STRANGER, "SO-1")


async def test_only_internal_staff_learn_which_purchase_order_a_sales_line_follows(
    db: Database,
) -> None:
    await tell_the_story(db)
    (internal,) = (await queries.sales_order(BUYER, "SO-1")).lines
    (customer,) = (await queries.sales_order(CONTOSO, "SO-1")).lines
    assert (internal.po_number, internal.po_line_no) == ("PO-1", 1)
    assert (customer.po_number, customer.po_line_no) == (None, None)
    assert customer.expected_date == internal.expected_date
