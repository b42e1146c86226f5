"""Supplier scorecards: figures worked out from a supplier's purchase order timelines.

Everything here is a pure function of events (standard library only): the database layer reads
the events (`portal.db.scorecard_queries`) and hands them over as `ScoreEvent`s, oldest first.

What the figures mean, precisely
--------------------------------
A *period* is a calendar month ("2026-03") or quarter ("2026-Q1"), in UTC dates.

Lines. A purchase order line is known from `po.issued` (its ordered quantity and need date).
An approved change request (`cr.approved`, `cr.auto_approved`) that changes a line's quantity
changes its ordered quantity; one that cancels the line takes it out of every line figure.

*Accepted quantity* of a line = what receipts counted in less what they turned away
(`receipt.recorded`: `received - rejected`, per line), dated by the receipt's `received_on`.

*Due date* of a line, two of them:
  - against the need date: the line's need date;
  - against the first confirmed promise: the last delivery date of the first promise the
    supplier confirmed for the line (at acknowledgement, in its first `line.promise_changed`,
    or in the first approved change that dated it). Later promises never replace it, so moving
    a promise later can never improve this figure. A line never promised has no such date and
    is left out of this figure.

A line *belongs to* the period its due date falls in (so the two on-time figures may count a
line in different periods). It is *counted* once it is decided: its full ordered quantity has
been accepted, or its due date is before `as_of` (today). A counted line is *on time* when its
accepted quantity reached the ordered quantity on or before the due date.

On-time rate = on-time lines / counted lines, per due date kind.

Fill rate = sum over the lines counted against the need date of min(accepted, ordered) / sum
of their ordered quantities (what came, of what was ordered, whenever it came).

Quantity accuracy = 1 - rejected / received over the receipts recorded (by `received_on`) in
the period: the share of what the supplier delivered that the warehouse kept.

Acknowledgement latency = hours from `po.issued` to the supplier's first answer
(`po.acknowledged` or `po.rejected`), for orders issued in the period and answered; the figure
is the mean. An order not yet answered is not in it (the alerts chase those).

Change request response = hours from `cr.opened` to its decision (`cr.approved`,
`cr.rejected` or `cr.countered`), for requests decided in the period, split by who decided:
the supplier's response (requests our buyers opened) and the buyer's response (requests the
supplier opened). Withdrawn requests and the ones approved by the tolerance policy
(`cr.auto_approved`) had no one deciding and are left out. The figure is the mean.

Promise stability = moves per line: for lines whose need date falls in the period and that
have a promise, the number of times a promise already given was replaced (each
`line.promise_changed` with a `before` promise), divided by the number of those lines. The
first promise itself is not a move. Also given: the share of those lines never moved.

Targets (from the domain): on-time >= 95 %, accuracy >= 98 %, exception response (the
acknowledgement) < 24 h, change response < 2 h. Fill rate is held to the on-time target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

KINDS: tuple[str, ...] = (
    "po.issued",
    "po.acknowledged",
    "po.rejected",
    "line.promise_changed",
    "cr.opened",
    "cr.approved",
    "cr.auto_approved",
    "cr.rejected",
    "cr.countered",
    "cr.withdrawn",
    "receipt.recorded",
)
"""The event kinds the figures are made from."""


class Figure(StrEnum):
    ON_TIME_NEED = "on_time_need"
    ON_TIME_PROMISE = "on_time_promise"
    FILL_RATE = "fill_rate"
    ACCURACY = "accuracy"
    ACK_HOURS = "ack_hours"
    SUPPLIER_CR_HOURS = "supplier_cr_hours"
    BUYER_CR_HOURS = "buyer_cr_hours"
    PROMISE_MOVES = "promise_moves"


@dataclass(frozen=True, slots=True)
class Target:
    value: float
    higher_is_better: bool
    """True: the figure should reach the value (rates); False: stay under it (hours)."""

    def met(self, figure: float | None) -> bool | None:
        if figure is None:
            return None
        return figure >= self.value if self.higher_is_better else figure < self.value


TARGETS: dict[Figure, Target] = {
    Figure.ON_TIME_NEED: Target(0.95, True),
    Figure.ON_TIME_PROMISE: Target(0.95, True),
    Figure.FILL_RATE: Target(0.95, True),
    Figure.ACCURACY: Target(0.98, True),
    Figure.ACK_HOURS: Target(24.0, False),
    Figure.SUPPLIER_CR_HOURS: Target(2.0, False),
    Figure.BUYER_CR_HOURS: Target(2.0, False),
}
"""Promise stability has no target from the domain: fewer moves are better."""


# --- Periods -------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A month (`months == 1`) or a quarter (`months == 3`) starting on `start`."""

    start: date
    months: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2026-03` or `2026-Q1`; ValueError for anything else."""
        text = text.strip().upper()
        if found := _MONTH.match(text):
            month = int(found.group(2))
            if not 1 <= month <= 12:
                raise ValueError(text)
            return cls(date(int(found.group(1)), month, 1), 1)
        if found := _QUARTER.match(text):
            return cls(date(int(found.group(1)), (int(found.group(2)) - 1) * 3 + 1, 1), 3)
        raise ValueError(text)

    @classmethod
    def containing(cls, day: date, months: int = 1) -> Period:
        first = (day.month - 1) // months * months + 1
        return cls(date(day.year, first, 1), months)

    @property
    def end(self) -> date:
        """The first day after the period."""
        month = self.start.month - 1 + self.months
        return date(self.start.year + month // 12, month % 12 + 1, 1)

    @property
    def code(self) -> str:
        if self.months == 3:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def shifted(self, count: int) -> Period:
        """The period `count` periods later (earlier when negative)."""
        month = self.start.month - 1 + count * self.months
        return Period(date(self.start.year + month // 12, month % 12 + 1, 1), self.months)

    def last(self, count: int) -> list[Period]:
        """The `count` periods ending with this one, oldest first."""
        return [self.shifted(-back) for back in range(count - 1, -1, -1)]


# --- Input ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreEvent:
    """One timeline event, as far as scorecards care."""

    stream: str
    seq: int
    at: datetime
    kind: str
    data: Mapping[str, Any]


# --- Replaying a supplier's history ---------------------------------------------------------------


@dataclass(slots=True)
class LineHistory:
    po: str
    line_no: int
    quantity: Decimal
    need_date: date
    cancelled: bool = False
    first_promise_date: date | None = None
    promised: bool = False
    moves: int = 0
    receipts: list[tuple[date, Decimal]] = field(default_factory=list)
    """(received_on, accepted quantity), in the order recorded."""

    @property
    def accepted(self) -> Decimal:
        return sum((quantity for _, quantity in self.receipts), Decimal(0))

    def complete_on(self) -> date | None:
        """The day the accepted quantity first reached the ordered quantity, or None."""
        running = Decimal(0)
        for day, quantity in sorted(self.receipts, key=lambda receipt: receipt[0]):
            running += quantity
            if running >= self.quantity:
                return day
        return None


@dataclass(slots=True)
class History:
    """A supplier's orders replayed: lines, answers, change request decisions, receipts."""

    lines: dict[tuple[str, int], LineHistory] = field(default_factory=dict)
    acknowledgements: list[tuple[datetime, float]] = field(default_factory=list)
    """(issued at, hours to the first answer)."""
    supplier_responses: list[tuple[datetime, float]] = field(default_factory=list)
    """(decided at, hours): requests our buyers opened, decided by the supplier."""
    buyer_responses: list[tuple[datetime, float]] = field(default_factory=list)
    receipts: list[tuple[date, Decimal, Decimal]] = field(default_factory=list)
    """(received_on, received, rejected) per receipt line."""


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _last_date(schedule: Any) -> date | None:
    if not schedule:
        return None
    return max(date.fromisoformat(str(row["date"])) for row in schedule)


def replay(events: Iterable[ScoreEvent]) -> History:
    """The history of the purchase orders the events tell (streams "po/<number>"); events of
    one stream must come in seq order."""
    history = History()
    issued: dict[str, datetime] = {}
    answered: set[str] = set()
    opened: dict[str, tuple[datetime, str]] = {}

    def promise(po: str, line_no: int, schedule: Any, *, move: bool) -> None:
        line = history.lines.get((po, line_no))
        last = _last_date(schedule)
        if line is None or last is None:
            return
        if line.first_promise_date is None:
            line.first_promise_date = last
        if move and line.promised:
            line.moves += 1
        line.promised = True

    for event in events:
        po = event.stream.removeprefix("po/")
        data = event.data
        if event.kind == "po.issued":
            issued.setdefault(po, event.at)
            for raw in data.get("lines", []):
                key = (po, int(raw["line_no"]))
                if key not in history.lines:
                    history.lines[key] = LineHistory(
                        po,
                        int(raw["line_no"]),
                        Decimal(str(raw["quantity"])),
                        date.fromisoformat(str(raw["need_date"])),
                    )
        elif event.kind in ("po.acknowledged", "po.rejected"):
            if po in issued and po not in answered:
                answered.add(po)
                history.acknowledgements.append((issued[po], _hours(issued[po], event.at)))
            for raw in data.get("lines", []):
                promise(po, int(raw["line_no"]), raw.get("promise"), move=False)
        elif event.kind == "line.promise_changed":
            promise(
                po, int(data["line_no"]), data.get("after"), move=data.get("before") is not None
            )
        elif event.kind == "cr.opened":
            opened[str(data["number"])] = (event.at, str(data.get("opened_by", "")))
        elif event.kind in ("cr.approved", "cr.auto_approved"):
            _apply_changes(history, po, data, promise)
            if event.kind == "cr.approved":
                _decided(history, opened.pop(str(data["number"]), None), event.at)
        elif event.kind in ("cr.rejected", "cr.countered"):
            _decided(history, opened.pop(str(data["number"]), None), event.at)
        elif event.kind == "cr.withdrawn":
            opened.pop(str(data["number"]), None)
        elif event.kind == "receipt.recorded":
            receipt = data.get("receipt", {})
            on = date.fromisoformat(str(receipt["received_on"]))
            for raw in receipt.get("lines", []):
                received = Decimal(str(raw["received"]))
                rejected = Decimal(str(raw.get("rejected", "0")))
                history.receipts.append((on, received, rejected))
                line = history.lines.get((po, int(raw["line_no"])))
                if line is not None:
                    line.receipts.append((on, received - rejected))
    return history


def _decided(history: History, opened: tuple[datetime, str] | None, at: datetime) -> None:
    if opened is None:
        return
    start, by = opened
    if by == "internal":
        history.supplier_responses.append((at, _hours(start, at)))
    elif by == "supplier":
        history.buyer_responses.append((at, _hours(start, at)))


def _apply_changes(history: History, po: str, data: Mapping[str, Any], promise: Any) -> None:
    after_acknowledgement = (data.get("status") or {}).get("before") == "changes_proposed"
    dated: set[int] = set()
    for change in data.get("applied", []):
        line = history.lines.get((po, int(change["line_no"])))
        if line is None:
            continue
        kind = change.get("kind")
        if kind == "quantity":
            line.quantity = Decimal(str(change["after"]))
        elif kind == "cancel":
            line.cancelled = True
        elif kind in ("date", "promise"):
            dated.add(line.line_no)
            promise(po, line.line_no, change.get("after"), move=change.get("before") is not None)
    if after_acknowledgement:
        # The lines an acknowledgement changed are agreed now; undated ones on their need date.
        for change in data.get("applied", []):
            line = history.lines.get((po, int(change["line_no"])))
            if line is not None and line.line_no not in dated and not line.promised:
                promise(po, line.line_no, [{"date": line.need_date.isoformat()}], move=False)


# --- Figures -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """`hits` of `total`; `value` is None when there was nothing to count."""

    hits: Decimal
    total: Decimal

    @property
    def value(self) -> float | None:
        return float(self.hits / self.total) if self.total else None


@dataclass(frozen=True, slots=True)
class Mean:
    count: int
    total_hours: float

    @property
    def value(self) -> float | None:
        return self.total_hours / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class Scorecard:
    supplier: str
    period: Period
    on_time_need: Rate
    on_time_promise: Rate
    fill_rate: Rate
    accuracy: Rate
    ack_hours: Mean
    supplier_cr_hours: Mean
    buyer_cr_hours: Mean
    promise_moves: Rate
    """moves (`hits`) per promised line (`total`)."""
    never_moved: Rate

    def value(self, figure: Figure) -> float | None:
        found: Rate | Mean = getattr(self, figure.value)
        return found.value

    def met(self, figure: Figure) -> bool | None:
        target = TARGETS.get(figure)
        return target.met(self.value(figure)) if target else None

    @property
    def targets_met(self) -> int:
        return sum(1 for figure in TARGETS if self.met(figure))


def _on_time(lines: Iterable[LineHistory], due: str, period: Period, as_of: date) -> Rate:
    hits = total = 0
    for line in lines:
        day: date | None = getattr(line, due)
        if line.cancelled or day is None or not period.contains(day):
            continue
        complete = line.complete_on()
        if complete is None and day >= as_of:
            continue  # not due yet and not complete: undecided
        total += 1
        if complete is not None and complete <= day:
            hits += 1
    return Rate(Decimal(hits), Decimal(total))


def _fill(lines: Iterable[LineHistory], period: Period, as_of: date) -> Rate:
    got = ordered = Decimal(0)
    for line in lines:
        if line.cancelled or not period.contains(line.need_date):
            continue
        accepted = line.accepted
        if accepted < line.quantity and line.need_date >= as_of:
            continue
        got += min(accepted, line.quantity)
        ordered += line.quantity
    return Rate(got, ordered)


def _mean(samples: Iterable[tuple[datetime, float]], period: Period) -> Mean:
    hours = [value for at, value in samples if period.contains(at.date())]
    return Mean(len(hours), sum(hours))


def score(supplier: str, history: History, period: Period, as_of: date) -> Scorecard:
    """The supplier's figures for one period, as they stand on `as_of`."""
    lines = list(history.lines.values())
    received = rejected = Decimal(0)
    for on, quantity, turned_away in history.receipts:
        if period.contains(on):
            received += quantity
            rejected += turned_away
    promised = [
        line
        for line in lines
        if not line.cancelled and line.promised and period.contains(line.need_date)
    ]
    return Scorecard(
        supplier=supplier,
        period=period,
        on_time_need=_on_time(lines, "need_date", period, as_of),
        on_time_promise=_on_time(lines, "first_promise_date", period, as_of),
        fill_rate=_fill(lines, period, as_of),
        accuracy=Rate(received - rejected, received),
        ack_hours=_mean(history.acknowledgements, period),
        supplier_cr_hours=_mean(history.supplier_responses, period),
        buyer_cr_hours=_mean(history.buyer_responses, period),
        promise_moves=Rate(Decimal(sum(line.moves for line in promised)), Decimal(len(promised))),
        never_moved=Rate(
            Decimal(sum(1 for line in promised if line.moves == 0)), Decimal(len(promised))
        ),
    )


def scorecards(
    events_by_supplier: Mapping[str, Iterable[ScoreEvent]], periods: list[Period], as_of: date
) -> dict[str, list[Scorecard]]:
    """Each supplier's scorecards for `periods` (in that order)."""
    result: dict[str, list[Scorecard]] = {}
    for supplier, events in events_by_supplier.items():
        history = replay(events)
        result[supplier] = [score(supplier, history, period, as_of) for period in periods]
    return result


def ranking(cards: Iterable[Scorecard]) -> list[Scorecard]:
    """Best first: most targets met, then on-time against the first promise, then against
    the need date, then accuracy (a figure with nothing to count ranks below any value)."""

    def key(card: Scorecard) -> tuple[float, ...]:
        def rate(figure: Figure) -> float:
            found = card.value(figure)
            return -1.0 if found is None else found

        return (
            -card.targets_met,
            -rate(Figure.ON_TIME_PROMISE),
            -rate(Figure.ON_TIME_NEED),
            -rate(Figure.ACCURACY),
        )

    return sorted(cards, key=lambda card: (key(card), card.supplier))
