# ruff: noqa: RUF001  (the Chinese a reader reads has full-width punctuation)
"""The words of every notification topic, in English and Chinese, as a reader reads them.

The event data comes from the domain's own methods (an order issued, a promise moved, a line
shipped...), so a renamed key in an event would show here as missing words. Dates are the
reader's: a day in the event is written in the reader's language, a moment in their time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from portal.domain import changes
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.domain.changes import ChangeKind, LineChange, TolerancePolicy
from portal.domain.events import EventKind
from portal.domain.notifications import TOPICS_BY_SIDE, Topic, topic_for
from portal.domain.orders import LineRef, POLine, PurchaseOrder, SalesLine, SalesOrder
from portal.domain.schedule import DeliveryRow, Schedule
from portal.domain.shipments import Shipment, ShipmentLine
from portal.notify.wording import describe
from portal.web.i18n import I18n

BUYER = Actor(ActorKind.USER, "7", "HOME", Side.INTERNAL, "Wang Fang", Via.WEB, "buyer")
SUPPLIER = Actor(ActorKind.USER, "8", "ACME", Side.SUPPLIER, "Li Lei of Acme", Via.WEB)
SYSTEM = Actor.system()
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EN = I18n("en", "Asia/Shanghai")
ZH = I18n("zh_CN", "Asia/Shanghai")


def po() -> PurchaseOrder:
    line = POLine(1, "BOLT-M8", "Hex bolt", Decimal(100), "pcs", Decimal("0.35"), date(2026, 12, 3))
    two = POLine(2, "NUT-M8", "Hex nut", Decimal(50), "pcs", Decimal("0.05"), date(2026, 12, 8))
    return PurchaseOrder.create(
        BUYER, number="PO-2026-00042", supplier="ACME", currency="CNY", lines=[line, two]
    )


def last(order: PurchaseOrder | SalesOrder, kind: str) -> dict[str, Any]:
    found = [event for event in order.events if event.kind == kind]
    assert found, f"no {kind} event"
    return dict(found[-1].data)


def so_following(order: PurchaseOrder) -> SalesOrder:
    line = SalesLine(
        1,
        "BOLT-M8",
        "Hex bolt",
        Decimal(100),
        "pcs",
        Decimal("0.80"),
        date(2026, 12, 5),
        date(2026, 12, 5),
    )
    so = SalesOrder.create(
        BUYER,
        number="SO-2026-00012",
        customer="CUS",
        currency="CNY",
        lines=[line],
        contact_email="buyer@cus.test",
    )
    so.link_line(BUYER, 1, LineRef("PO-2026-00042", 1), order.line(1), 2)
    return so


def words(
    topic: str, kind: str, number: str, data: dict[str, Any], side: Side, i18n: I18n = EN
) -> tuple[str, str, str]:
    # As the dispatcher stores it: the order number and the event data.
    described = describe(topic, kind, number, {"number": number, "event": data}, i18n, side)
    return described.title, described.body, described.path


def test_every_topic_of_every_side_has_words() -> None:
    """Each (side, topic) pair the preferences offer is described by at least one kind."""
    offered = {(side, topic) for side, topics in TOPICS_BY_SIDE.items() for topic in topics}
    described = {
        (side, topic)
        for side in Side
        for kind in EventKind
        for stream in ("po/X", "so/X")
        for author in Side
        if (topic := topic_for(kind, stream, side, author, tuple(Side))) is not None
    }
    assert offered <= described


# --- what a customer reads ------------------------------------------------------------------


def test_expected_date_moved_for_a_customer_in_english_and_chinese() -> None:
    order = po()
    so = so_following(order)
    order.accept(SUPPLIER)
    order.change_promise(
        SUPPLIER,
        1,
        Schedule((DeliveryRow(Decimal(100), date(2026, 12, 8)),)),
        "capacity",
        "Press 3 is down",
    )
    so.follow(SYSTEM, 1, order.line(1), cause="promise_changed")
    data = last(so, EventKind.EXPECTED_DATE_CHANGED)

    title, body, path = words(
        Topic.EXPECTED_DATE_MOVED, EventKind.EXPECTED_DATE_CHANGED, so.number, data, Side.CUSTOMER
    )
    assert title == "Order SO-2026-00012: expected date moved"
    assert body == (
        "Order SO-2026-00012: expected date moved from Dec 5, 2026 to Dec 10, 2026 (line 1). "
        "Reason: Our supply schedule changed."
    )
    assert path == "/orders/SO-2026-00012"
    # Never the supplier, its people, its reason code or its note.
    for secret in ("ACME", "Li Lei", "Press 3", "Capacity", "PO-2026-00042"):
        assert secret not in title + body

    title, body, _ = words(
        Topic.EXPECTED_DATE_MOVED,
        EventKind.EXPECTED_DATE_CHANGED,
        so.number,
        data,
        Side.CUSTOMER,
        ZH,
    )
    assert title == "订单 SO-2026-00012：预计日期已变更"
    assert body == (
        "订单 SO-2026-00012：预计日期从 2026年12月5日 改为 2026年12月10日（第 1 行）。"
        f"原因：{ZH.cause('promise_changed')}。"
    )


def test_order_confirmed_shipped_delivered_and_a_comment_for_a_customer() -> None:
    order = po()
    so = so_following(order)
    so.confirm_line(SYSTEM, 1)
    so.comment(BUYER, "Packed on two pallets.")
    so.ship(BUYER, "SF Express", "SF1234567", date(2026, 12, 9))
    so.deliver(BUYER, date(2026, 12, 11))
    number = so.number

    confirmed = last(so, EventKind.LINE_CONFIRMED)
    assert words(Topic.ORDER_CONFIRMED, EventKind.LINE_CONFIRMED, number, confirmed, Side.CUSTOMER)[
        :2
    ] == (
        "Order SO-2026-00012 confirmed",
        "Line 1 is confirmed; expected on Dec 5, 2026.",
    )
    assert words(
        Topic.ORDER_CONFIRMED, EventKind.LINE_CONFIRMED, number, confirmed, Side.CUSTOMER, ZH
    )[:2] == (
        "订单 SO-2026-00012 已确认",
        "第 1 行已确认，预计 2026年12月5日 到货。",
    )

    shipped = last(so, EventKind.SO_SHIPPED)
    assert words(Topic.SHIPPED, EventKind.SO_SHIPPED, number, shipped, Side.CUSTOMER)[:2] == (
        "Order SO-2026-00012 shipped",
        "Shipped on Dec 9, 2026 with SF Express, tracking number SF1234567.",
    )
    assert words(Topic.SHIPPED, EventKind.SO_SHIPPED, number, shipped, Side.CUSTOMER, ZH)[:2] == (
        "订单 SO-2026-00012 已发货",
        "已于 2026年12月9日 由 SF Express 发出，运单号 SF1234567。",
    )

    delivered = last(so, EventKind.SO_DELIVERED)
    assert words(Topic.DELIVERED, EventKind.SO_DELIVERED, number, delivered, Side.CUSTOMER) == (
        "Order SO-2026-00012 delivered",
        "Delivered on Dec 11, 2026.",
        "/orders/SO-2026-00012",
    )
    assert words(Topic.DELIVERED, EventKind.SO_DELIVERED, number, delivered, Side.CUSTOMER, ZH)[
        :2
    ] == ("订单 SO-2026-00012 已送达", "已于 2026年12月11日 送达。")

    comment = last(so, EventKind.COMMENT_ADDED)
    assert words(Topic.COMMENT, EventKind.COMMENT_ADDED, number, comment, Side.CUSTOMER) == (
        "New comment on order SO-2026-00012",
        "Packed on two pallets.",
        "/orders/SO-2026-00012",
    )
    assert (
        words(Topic.COMMENT, EventKind.COMMENT_ADDED, number, comment, Side.CUSTOMER, ZH)[0]
        == "订单 SO-2026-00012 有新留言"
    )


# --- what a supplier reads ------------------------------------------------------------------


def test_new_purchase_order_and_cancellation_for_a_supplier() -> None:
    order = po()
    issued = last(order, EventKind.PO_ISSUED)
    assert words(
        Topic.NEW_PURCHASE_ORDER, EventKind.PO_ISSUED, order.number, issued, Side.SUPPLIER
    ) == (
        "New purchase order PO-2026-00042",
        "2 lines, needed from Dec 3, 2026. Please acknowledge it.",
        "/supplier/purchase-orders/PO-2026-00042",
    )
    assert words(
        Topic.NEW_PURCHASE_ORDER, EventKind.PO_ISSUED, order.number, issued, Side.SUPPLIER, ZH
    )[:2] == (
        "新采购订单 PO-2026-00042",
        "共 2 行，最早需求日期 2026年12月3日。请确认该订单。",
    )
    order.cancel(BUYER, "Ordered twice")
    cancelled = last(order, EventKind.PO_CANCELLED)
    assert words(
        Topic.ORDER_CANCELLED, EventKind.PO_CANCELLED, order.number, cancelled, Side.SUPPLIER
    )[:2] == (
        "Purchase order PO-2026-00042 cancelled",
        "Reason: Ordered twice",
    )
    assert words(
        Topic.ORDER_CANCELLED, EventKind.PO_CANCELLED, order.number, cancelled, Side.SUPPLIER, ZH
    )[:2] == ("采购订单 PO-2026-00042 已取消", "原因：Ordered twice")


def test_change_requests_opened_countered_approved_rejected() -> None:
    order = po()
    order.accept(SUPPLIER)
    request = changes.open_change_request(
        order,
        BUYER,
        changes=(LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(80)),),
        reason_code="buyer_request",
        comment="Less is needed",
        due_at=DUE,
        policy=TolerancePolicy(),
    )
    opened = last(order, EventKind.CR_OPENED)
    assert words(
        Topic.CHANGE_REQUEST, EventKind.CR_OPENED, order.number, opened, Side.SUPPLIER
    ) == (
        f"Change request {request.number} on order PO-2026-00042",
        "Proposed: line 1: Quantity. Reason: Buyer request. “Less is needed”",
        "/supplier/purchase-orders/PO-2026-00042",
    )
    assert (
        words(Topic.CHANGE_REQUEST, EventKind.CR_OPENED, order.number, opened, Side.SUPPLIER, ZH)[0]
        == f"订单 PO-2026-00042 的变更申请 {request.number}"
    )

    counter = changes.counter(
        order,
        request,
        SUPPLIER,
        changes=(LineChange(1, ChangeKind.QUANTITY, quantity=Decimal(90)),),
        reason_code="capacity",
        comment="",
        due_at=DUE,
    )
    countered = last(order, EventKind.CR_COUNTERED)
    assert words(
        Topic.CHANGE_REQUEST, EventKind.CR_COUNTERED, order.number, countered, Side.INTERNAL
    ) == (
        f"Change request {request.number} countered",
        f"Order PO-2026-00042: change request {request.number} is answered with {counter.number}.",
        "/purchase-orders/PO-2026-00042",
    )
    changes.approve(order, counter, BUYER, "Fine")
    approved = last(order, EventKind.CR_APPROVED)
    assert words(
        Topic.CHANGE_REQUEST, EventKind.CR_APPROVED, order.number, approved, Side.SUPPLIER
    )[:2] == (
        f"Change request {counter.number} approved",
        "Order PO-2026-00042: “Fine”",
    )
    assert (
        words(
            Topic.CHANGE_REQUEST, EventKind.CR_APPROVED, order.number, approved, Side.SUPPLIER, ZH
        )[0]
        == f"变更申请 {counter.number} 已批准"
    )

    again = changes.open_change_request(
        order,
        BUYER,
        changes=(LineChange(2, ChangeKind.QUANTITY, quantity=Decimal(40)),),
        reason_code="buyer_request",
        comment="",
        due_at=DUE,
        policy=TolerancePolicy(),
    )
    changes.reject(order, again, SUPPLIER, "Already produced")
    rejected = last(order, EventKind.CR_REJECTED)
    assert words(
        Topic.CHANGE_REQUEST, EventKind.CR_REJECTED, order.number, rejected, Side.INTERNAL
    )[:2] == (
        f"Change request {again.number} rejected",
        "Order PO-2026-00042: “Already produced”",
    )
    assert (
        words(
            Topic.CHANGE_REQUEST, EventKind.CR_REJECTED, order.number, rejected, Side.INTERNAL, ZH
        )[0]
        == f"变更申请 {again.number} 已拒绝"
    )


# --- what our staff read --------------------------------------------------------------------


def test_acknowledgements_accepted_and_rejected() -> None:
    order = po()
    order.accept(SUPPLIER)
    accepted = last(order, EventKind.PO_ACKNOWLEDGED)
    assert words(
        Topic.ACKNOWLEDGEMENT, EventKind.PO_ACKNOWLEDGED, order.number, accepted, Side.INTERNAL
    ) == (
        "Purchase order PO-2026-00042: Accepted",
        "The supplier accepted the order as issued.",
        "/purchase-orders/PO-2026-00042",
    )
    assert (
        words(
            Topic.ACKNOWLEDGEMENT,
            EventKind.PO_ACKNOWLEDGED,
            order.number,
            accepted,
            Side.INTERNAL,
            ZH,
        )[1]
        == "供应商按原样接受了订单。"
    )

    other = po()
    other.reject(SUPPLIER, "Item discontinued")
    rejected = last(other, EventKind.PO_REJECTED)
    title, body, _ = words(
        Topic.ACKNOWLEDGEMENT, EventKind.PO_REJECTED, other.number, rejected, Side.INTERNAL
    )
    assert (title, body) == ("Purchase order PO-2026-00042: Rejected", "Reason: Item discontinued")
    assert (
        words(
            Topic.ACKNOWLEDGEMENT, EventKind.PO_REJECTED, other.number, rejected, Side.INTERNAL, ZH
        )[1]
        == "原因：Item discontinued"
    )


def test_promise_moved_for_the_buyer() -> None:
    order = po()
    order.accept(SUPPLIER)
    order.change_promise(
        SUPPLIER,
        1,
        Schedule(
            (
                DeliveryRow(Decimal(60), date(2026, 12, 8)),
                DeliveryRow(Decimal(40), date(2026, 12, 15)),
            )
        ),
        "capacity",
        "Second shift",
    )
    moved = last(order, EventKind.PROMISE_CHANGED)
    assert words(
        Topic.PROMISE_MOVED, EventKind.PROMISE_CHANGED, order.number, moved, Side.INTERNAL
    ) == (
        "Purchase order PO-2026-00042: promise moved (line 1)",
        "Promised Dec 3, 2026, now 60 on Dec 8, 2026, 40 on Dec 15, 2026. Reason: Capacity. "
        "“Second shift”",
        "/purchase-orders/PO-2026-00042",
    )
    title, body, _ = words(
        Topic.PROMISE_MOVED, EventKind.PROMISE_CHANGED, order.number, moved, Side.INTERNAL, ZH
    )
    assert title == "采购订单 PO-2026-00042：承诺交期已变更（第 1 行）"
    assert body.startswith("原承诺 2026年12月3日，现为 2026年12月8日 60, 2026年12月15日 40。原因：")


def test_shipments_posted_corrected_cancelled() -> None:
    order = po()
    order.accept(SUPPLIER)
    sent = Shipment(
        number="ASN-7",
        ship_date=date(2026, 12, 2),
        carrier="DHL",
        tracking_no="JD0001",
        expected_arrival=date(2026, 12, 4),
        lines=(ShipmentLine(1, Decimal(100)),),
    )
    order.post_shipment(SUPPLIER, sent, Decimal(0))
    posted = last(order, EventKind.SHIPMENT_POSTED)
    assert words(Topic.SHIPMENT, EventKind.SHIPMENT_POSTED, order.number, posted, Side.INTERNAL)[
        :2
    ] == (
        "Purchase order PO-2026-00042: shipment ASN-7 posted",
        "Shipped on Dec 2, 2026 with DHL, tracking number JD0001.",
    )
    assert words(
        Topic.SHIPMENT, EventKind.SHIPMENT_POSTED, order.number, posted, Side.INTERNAL, ZH
    )[:2] == (
        "采购订单 PO-2026-00042：发货单 ASN-7 已登记",
        "已于 2026年12月2日 由 DHL 发出，运单号 JD0001。",
    )
    order.cancel_shipment(SUPPLIER, sent, "Wrong truck", received=False)
    cancelled = last(order, EventKind.SHIPMENT_CANCELLED)
    assert words(
        Topic.SHIPMENT, EventKind.SHIPMENT_CANCELLED, order.number, cancelled, Side.INTERNAL
    )[:2] == (
        "Purchase order PO-2026-00042: shipment ASN-7 cancelled",
        "Reason: Wrong truck",
    )
    corrected = {
        "number": "ASN-8",
        "reason": "Count was wrong",
        "before": sent.to_data(),
        "after": {**sent.to_data(), "number": "ASN-8", "tracking_no": "JD0002"},
    }
    assert words(
        Topic.SHIPMENT, EventKind.SHIPMENT_CORRECTED, order.number, corrected, Side.INTERNAL
    )[:2] == (
        "Purchase order PO-2026-00042: shipment ASN-8 corrected",
        "Shipped on Dec 2, 2026 with DHL, tracking number JD0002. Reason: Count was wrong.",
    )


def test_expected_date_and_comments_lead_our_staff_to_the_right_order_page() -> None:
    data = {"line_no": 1, "before": "2026-12-05", "after": "2026-12-10", "cause": "linked"}
    assert (
        words(
            Topic.EXPECTED_DATE_MOVED, EventKind.EXPECTED_DATE_CHANGED, "SO-9", data, Side.INTERNAL
        )[2]
        == "/sales-orders/SO-9"
    )
    comment = {"text": "Hello"}
    on_po = describe(
        Topic.COMMENT, EventKind.COMMENT_ADDED, "X-1", comment, EN, Side.INTERNAL, stream="po/X-1"
    )
    on_so = describe(
        Topic.COMMENT, EventKind.COMMENT_ADDED, "X-1", comment, EN, Side.INTERNAL, stream="so/X-1"
    )
    assert (on_po.path, on_so.path) == ("/purchase-orders/X-1", "/sales-orders/X-1")


def test_a_disabled_webhook_for_the_organisations_admins() -> None:
    data = {"url": "https://erp.example/hooks", "reason": "HTTP 500"}
    assert words(Topic.WEBHOOK_DISABLED, EventKind.WEBHOOK_DISABLED, "", data, Side.SUPPLIER) == (
        "Webhook disabled",
        "Deliveries to https://erp.example/hooks failed too often, so they were stopped. "
        "Last error: HTTP 500",
        "/notifications/webhooks",
    )
    assert words(Topic.WEBHOOK_DISABLED, EventKind.WEBHOOK_DISABLED, "", data, Side.INTERNAL, ZH)[
        :2
    ] == (
        "已停用 Webhook",
        "发送到 https://erp.example/hooks 的请求失败次数过多，已停止发送。最近的错误：HTTP 500",
    )


@pytest.mark.parametrize("i18n", [EN, ZH], ids=["en", "zh_CN"])
def test_a_kind_without_words_shows_its_label_never_its_data(i18n: I18n) -> None:
    data = {"reason": "internal note: supplier ACME is slow"}
    title, body, _ = words(
        "order_cancelled", EventKind.SO_CANCELLED + "x", "SO-1", data, Side.CUSTOMER, i18n
    )
    assert "ACME" not in title + body
    assert body == ""
