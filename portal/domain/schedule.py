"""A promise: one or more delivery rows, e.g. "300 on 1 Dec, 200 on 15 Dec"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from portal.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    quantity: Decimal
    date: date


@dataclass(frozen=True, slots=True)
class Schedule:
    rows: tuple[DeliveryRow, ...]

    def __post_init__(self) -> None:
        if not self.rows:
            raise DomainError("A promise needs at least one delivery row (quantity and date).")
        for row in self.rows:
            if row.quantity <= 0:
                raise DomainError(
                    "Promised quantity must be more than zero (got {quantity}).",
                    quantity=row.quantity,
                )
        dates = [row.date for row in self.rows]
        if len(set(dates)) != len(dates):
            raise DomainError("A promise cannot have two delivery rows on the same date.")
        # Kept in date order so that two equal promises compare equal and read naturally.
        object.__setattr__(self, "rows", tuple(sorted(self.rows, key=lambda r: r.date)))

    @classmethod
    def single(cls, quantity: Decimal, on: date) -> Schedule:
        return cls((DeliveryRow(quantity, on),))

    @property
    def total(self) -> Decimal:
        return sum((row.quantity for row in self.rows), Decimal(0))

    @property
    def last_date(self) -> date:
        return self.rows[-1].date

    def cover_date(self, quantity: Decimal) -> date:
        """The first delivery date by which `quantity` has arrived (the last date if never)."""
        running = Decimal(0)
        for row in self.rows:
            running += row.quantity
            if running >= quantity:
                return row.date
        return self.last_date

    def shifted(self, days: int) -> Schedule:
        """Every row moved by `days` (earlier when negative)."""
        return Schedule(
            tuple(DeliveryRow(row.quantity, row.date + timedelta(days=days)) for row in self.rows)
        )

    def still_to_come(self, quantity: Decimal) -> Schedule | None:
        """The last `quantity` of the schedule: what is still due once the rest has come.

        Shipped goods count against the earliest rows, so a promise of "300 on 1 Dec, 200 on
        15 Dec" with 350 left to ship still has "150 on 1 Dec, 200 on 15 Dec" to come."""
        if quantity <= 0:
            return None
        if quantity >= self.total:
            return self
        rows: list[DeliveryRow] = []
        wanted = quantity
        for row in reversed(self.rows):
            take = min(row.quantity, wanted)
            rows.append(DeliveryRow(take, row.date))
            wanted -= take
            if wanted == 0:
                break
        return Schedule(tuple(rows))

    def require_from(self, today: date, line_no: int) -> None:
        """A promise is for the future: a date already gone cannot be kept."""
        first = self.rows[0].date
        if first < today:
            raise DomainError(
                "Line {line_no}: the delivery date {first} is in the past; promise "
                "{today} or later.",
                line_no=line_no,
                first=first.isoformat(),
                today=today.isoformat(),
            )

    def to_data(self) -> list[dict[str, Any]]:
        return [
            {"quantity": format(row.quantity.normalize(), "f"), "date": row.date.isoformat()}
            for row in self.rows
        ]

    @classmethod
    def from_data(cls, data: list[dict[str, Any]]) -> Schedule:
        return cls(
            tuple(
                DeliveryRow(Decimal(str(item["quantity"])), date.fromisoformat(item["date"]))
                for item in data
            )
        )
