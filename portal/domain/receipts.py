"""Receipts: what the warehouse counted in, and what it turned away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from portal.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    line_no: int
    received: Decimal
    rejected: Decimal = Decimal(0)
    note: str = ""

    @property
    def accepted(self) -> Decimal:
        return self.received - self.rejected


@dataclass(frozen=True, slots=True)
class Receipt:
    number: str
    received_on: date
    shipment_number: str | None
    lines: tuple[ReceiptLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise DomainError("A receipt needs at least one line.")
        numbers = [line.line_no for line in self.lines]
        if len(set(numbers)) != len(numbers):
            raise DomainError("A receipt lists each purchase order line once.")
        for line in self.lines:
            if line.received <= 0:
                raise DomainError(
                    "Received quantity on line {line_no} must be more than zero.",
                    line_no=line.line_no,
                )
            if line.rejected < 0 or line.rejected > line.received:
                raise DomainError(
                    "Rejected quantity on line {line_no} must be between zero and the "
                    "quantity received ({received}).",
                    line_no=line.line_no,
                    received=line.received,
                )

    def to_data(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "received_on": self.received_on.isoformat(),
            "shipment": self.shipment_number,
            "lines": [
                {
                    "line_no": line.line_no,
                    "received": format(line.received.normalize(), "f"),
                    "rejected": format(line.rejected.normalize(), "f"),
                    "note": line.note,
                }
                for line in self.lines
            ],
        }
