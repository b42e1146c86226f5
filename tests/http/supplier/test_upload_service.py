"""The promise import below the page: the preview runs the real command and rolls it back, so
what the command refuses lands on the row it is about, and applying is all or none. On SQLite
and PostgreSQL, without the web layer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from http_story import BUYER, SUPPLIER, add_organisations, issue, uow

from portal.db import queries
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.changes import TolerancePolicy
from portal.domain.orders import POLine
from portal.domain.shipments import Shipment, ShipmentLine
from portal.services import promise_import as pi
from portal.services.acknowledgements import Acknowledge, Decision, acknowledge
from portal.services.fulfilment import PostShipment, post_shipment
from portal.services.purchase_orders import IssuePurchaseOrder, issue_purchase_order
from portal.services.unit_of_work import Rules, UnitOfWork

NEED = date(2027, 1, 11)
TODAY = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
REASONS = {code: code for code in ("capacity", "other")}


RULES = Rules(tolerance=TolerancePolicy(max_date_move_days=3))
"""A promise may move three days without the buyer."""


def at_today(db: Database) -> UnitOfWork:
    return UnitOfWork(db, RULES, clock=lambda: TODAY)


async def story(db: Database) -> None:
    """PO-S1: Acme's, two lines of 100, accepted; its line 2 then shipped in full.
    PO-S2: Acme's, one line of 100, accepted."""
    await add_organisations()
    lines = [
        POLine(no, "BOLT-M8", "Hex bolt M8", Decimal(100), "pcs", Decimal("0.35"), NEED)
        for no in (1, 2)
    ]
    po = await issue_purchase_order(
        uow(db), BUYER, IssuePurchaseOrder("ACME", "CNY", lines, number="PO-S1")
    )
    done = await acknowledge(uow(db), SUPPLIER, Acknowledge("PO-S1", po.version, Decision.ACCEPT))
    shipment = Shipment("", date(2026, 3, 2), "SF", "SF1", None, (ShipmentLine(2, Decimal(100)),))
    await post_shipment(uow(db), SUPPLIER, PostShipment("PO-S1", done.po.version, shipment))
    version = await issue(db, "PO-S2", "ACME", NEED)
    await acknowledge(uow(db), SUPPLIER, Acknowledge("PO-S2", version, Decision.ACCEPT))


def read(text: str) -> list[pi.Row]:
    rows, _ = pi.read_rows(
        ("PO no.,Line no.,Promised date,Quantity,Reason code\n" + text).encode(),
        "promises.csv",
        "",
        REASONS,
    )
    return rows


async def written() -> tuple[int, int, list[dict[str, object]]]:
    return (
        await t.Event.count().run(),
        await t.ChangeRequest.count().run(),
        await t.PurchaseOrder.select(t.PurchaseOrder.version, t.PurchaseOrder.cr_count).run(),
    )


async def test_a_refusal_of_the_command_lands_on_its_own_row(db: Database) -> None:
    await story(db)
    before = await written()
    preview = await pi.preview(
        at_today(db),
        SUPPLIER,
        read(
            "PO-S1,1,2027-01-12,100,capacity\n"
            "PO-S1,2,2027-01-12,100,capacity\n"  # shipped in full: the command refuses it
            "PO-S2,1,2027-03-01,100,other\n"
        ),
    )
    outcomes = [(r.row.number, r.outcome, r.problem) for r in preview.results]
    assert outcomes[0] == (2, pi.Outcome.APPLY, None)
    assert outcomes[2] == (4, pi.Outcome.CHANGE_REQUEST, None)
    number, outcome, problem = outcomes[1]
    assert (number, outcome) == (3, pi.Outcome.ERROR)
    assert problem is not None and problem.code == pi.RowProblem.REFUSED
    assert "fully shipped" in problem.params["detail"]
    assert not preview.ok
    assert await written() == before, "the command ran, and was rolled back"


async def test_applying_is_all_or_none_and_a_refused_row_says_why(db: Database) -> None:
    await story(db)
    rows = read("PO-S2,1,2027-01-10,100,capacity\nPO-S1,1,2027-01-12,100,capacity\n")
    preview = await pi.preview(at_today(db), SUPPLIER, rows)
    assert preview.ok
    before = await written()

    # Applied once PO-S2's new date has passed: nothing applied, and the row says why.
    late = UnitOfWork(db, RULES, clock=lambda: datetime(2027, 1, 11, 8, 0, tzinfo=UTC))
    refused = await pi.apply(late, SUPPLIER, rows, preview.versions)
    assert refused.done is None
    first, second = refused.preview.results
    assert first.outcome == pi.Outcome.ERROR and first.problem is not None
    assert first.problem.code == pi.RowProblem.PAST_DATE
    assert second.outcome == pi.Outcome.APPLY
    assert await written() == before

    applied = await pi.apply(at_today(db), SUPPLIER, rows, preview.versions)
    assert applied.done is not None and applied.orders == ["PO-S1", "PO-S2"]
    promised = {
        number: (await queries.purchase_order(BUYER, number)).lines[0].promised_date
        for number in ("PO-S1", "PO-S2")
    }
    assert promised == {"PO-S1": date(2027, 1, 12), "PO-S2": date(2027, 1, 10)}
