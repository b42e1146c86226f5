"""The supplier's inbox query: filters, counts, sorting, paging, the lines marked late or at
risk and the reasons an order needs the supplier, confined to the supplier's own orders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from http_story import BUYER, SUPPLIER, issue, tell_the_story, uow

from portal.db import queries
from portal.db.database import Database
from portal.db.inbox import Action, InboxFilter, InboxSort, InboxSortKey, inbox
from portal.db.po_detail import purchase_order_detail
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange
from portal.domain.errors import NotFound
from portal.domain.orders import POLine
from portal.domain.states import POStatus
from portal.services.change_requests import OpenChangeRequest, open_change_request
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order

BOLT = Actor(ActorKind.USER, "u-bolt", "BOLT", Side.SUPPLIER, "Zhou Min", Via.WEB)
CONTOSO = Actor(ActorKind.USER, "u-cust", "CUST", Side.CUSTOMER, "Carl", Via.WEB)
TODAY = date(2027, 1, 9)


async def story(db: Database) -> None:
    """PO-1 (Acme, acknowledged, promised 20 Jan for 11 Jan: late); PO-2 (Bolt, issued);
    PO-3 (Acme, issued, needed 10 Jan: at risk); PO-4 (Acme, issued, a spanner, needed in
    March); then the buyer asks for a new price on PO-1."""
    await tell_the_story(db)
    await issue(db, "PO-3", "ACME", date(2027, 1, 10))
    await issue(db, "PO-4", "ACME", date(2027, 3, 1))
    version = (await queries.purchase_order(BUYER, "PO-1")).version
    await open_change_request(
        uow(db),
        BUYER,
        OpenChangeRequest(
            "PO-1",
            version,
            (LineChange(1, ChangeKind.PRICE, unit_price=Decimal("0.3")),),
            "buyer_request",
        ),
    )


async def test_the_inbox_marks_lines_and_says_what_needs_the_supplier(db: Database) -> None:
    await story(db)
    box = await inbox(SUPPLIER, InboxFilter(), today=TODAY)
    assert [row.number for row in box.page.items] == ["PO-4", "PO-3", "PO-1"]
    rows = {row.number: row for row in box.page.items}
    assert rows["PO-1"].late and not rows["PO-1"].at_risk
    assert rows["PO-1"].actions == [Action.ANSWER_CHANGE_REQUEST]
    assert rows["PO-1"].change_requests_waiting == ["PO-1-CR1"]
    assert rows["PO-3"].at_risk and not rows["PO-3"].late
    assert rows["PO-3"].actions == [Action.ACKNOWLEDGE]
    assert not rows["PO-4"].at_risk and rows["PO-4"].actions == [Action.ACKNOWLEDGE]
    assert box.counts == {"issued": 2, "acknowledged": 1}
    assert box.needs_action == 3
    assert box.page.total == 3

    # On 25 January PO-1's promise (20 January) lies in the past, nothing of it shipped.
    later = await inbox(SUPPLIER, InboxFilter(needs_action=True), today=date(2027, 1, 25))
    (po1,) = [row for row in later.page.items if row.number == "PO-1"]
    assert po1.actions == [Action.ANSWER_CHANGE_REQUEST, Action.PROMISE_IN_PAST]
    assert po1.lines[0].action == Action.PROMISE_IN_PAST


async def test_filters_sorting_and_paging(db: Database) -> None:
    await story(db)

    async def numbers(filters: InboxFilter, **kwargs: object) -> list[str]:
        box = await inbox(SUPPLIER, filters, today=TODAY, **kwargs)  # type: ignore[arg-type]
        return [row.number for row in box.page.items]

    assert await numbers(InboxFilter(status=POStatus.ISSUED)) == ["PO-4", "PO-3"]
    assert await numbers(InboxFilter(need_from=date(2027, 1, 11))) == ["PO-4", "PO-1"]
    assert await numbers(InboxFilter(need_to=date(2027, 1, 10))) == ["PO-3"]
    assert await numbers(InboxFilter(item="bolt m8")) == ["PO-4", "PO-3", "PO-1"]
    assert await numbers(InboxFilter(item="spanner")) == []
    need = InboxSort(InboxSortKey.NEED, descending=False)
    assert await numbers(InboxFilter(), sort=need) == ["PO-3", "PO-1", "PO-4"]
    assert await numbers(InboxFilter(), sort=need, page=2, per_page=2) == ["PO-4"]
    filtered = await inbox(SUPPLIER, InboxFilter(status=POStatus.ISSUED), today=TODAY)
    assert filtered.counts == {"issued": 2, "acknowledged": 1}  # the status filter aside


async def test_each_supplier_sees_only_its_own(db: Database) -> None:
    """... and only once it is issued: a draft is still ours alone."""
    await story(db)
    line = POLine(1, "BOLT-M8", "Hex bolt M8", Decimal(5), "pcs", Decimal("0.35"), TODAY)
    await issue_purchase_order(
        uow(db), BUYER, IssuePurchaseOrder("ACME", "CNY", [line], number="PO-D", draft=True)
    )
    assert "PO-D" not in [
        row.number for row in (await inbox(SUPPLIER, InboxFilter(), today=TODAY)).page.items
    ]
    with pytest.raises(NotFound):
        await purchase_order_detail(SUPPLIER, "PO-D")
    assert (await purchase_order_detail(BUYER, "PO-D")).stored_status == "draft"
    assert [row.number for row in (await inbox(BOLT, InboxFilter(), today=TODAY)).page.items] == [
        "PO-2"
    ]
    assert (await inbox(CONTOSO, InboxFilter(), today=TODAY)).page.total == 0
    assert (await inbox(BUYER, InboxFilter(), today=TODAY)).page.total == 5
