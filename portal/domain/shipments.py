"""Shipments (ASN): what the supplier sent against a purchase order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from portal.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    line_no: int
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Shipment:
    number: str
    ship_date: date
    carrier: str
    tracking_no: str
    expected_arrival: date | None
    lines: tuple[ShipmentLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise DomainError("A shipment needs at least one line with a quantity.")
        if not self.carrier.strip():
            raise DomainError("A shipment needs the carrier's name.")
        numbers = [line.line_no for line in self.lines]
        if len(set(numbers)) != len(numbers):
            raise DomainError("A shipment lists each purchase order line once.")
        for line in self.lines:
            if line.quantity <= 0:
                raise DomainError(
                    "Shipped quantity on line {line_no} must be more than zero.",
                    line_no=line.line_no,
                )
        if self.expected_arrival is not None and self.expected_arrival < self.ship_date:
            raise DomainError("The expected arrival cannot be before the ship date.")

    def to_data(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "ship_date": self.ship_date.isoformat(),
            "carrier": self.carrier,
            "tracking_no": self.tracking_no,
            "expected_arrival": self.expected_arrival.isoformat()
            if self.expected_arrival
            else None,
            "lines": [
                {"line_no": line.line_no, "quantity": format(line.quantity.normalize(), "f")}
                for line in self.lines
            ],
        }
