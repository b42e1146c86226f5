"""A promise: one or more delivery rows, e.g. "300 on 1 Dec, 200 on 15 Dec"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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
                raise DomainError(f"Promised quantity must be more than zero (got {row.quantity}).")
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
