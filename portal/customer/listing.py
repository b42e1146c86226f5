"""The state of "My orders" in its URL (`?status=&late=1&q=&page=`): read from the query, turned
into the customer query's filter, and written back into the links that change one part of it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import msgspec
from litestar.exceptions import ValidationException

from portal.db.customer_queries import SEARCH_MAX, OrderFilter
from portal.domain.states import SOStatus

ORDERS = "/orders"
STATUSES = [status.value for status in SOStatus]


class OrdersListing(msgspec.Struct, frozen=True, kw_only=True):
    status: str = ""
    late: bool = False
    """Only orders with a line expected after the date asked for."""
    q: str = ""
    """Part of an order number or an item code."""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> OrdersListing:
        page = query.get("page", "1")
        listing = cls(
            status=query.get("status", ""),
            late=query.get("late", "") in ("1", "on", "true"),
            q=query.get("q", "").strip()[:SEARCH_MAX],
            page=int(page) if page.isdigit() and int(page) > 0 else 1,
        )
        listing.filters()  # refuse a bad status now, with its name
        return listing

    def filters(self) -> OrderFilter:
        try:
            status = SOStatus(self.status) if self.status else None
        except ValueError:
            known = ", ".join(STATUSES)
            raise ValidationException(
                f"Unknown status {self.status!r}; use one of: {known}."
            ) from None
        return OrderFilter(status=status, late_only=self.late, search=self.q)

    def url(self, **changes: str | int | bool) -> str:
        """This listing with some of its state changed; a new filter starts at page 1."""
        state = msgspec.structs.replace(self, **changes)
        if "page" not in changes:
            state = msgspec.structs.replace(state, page=1)
        params = {
            "status": state.status,
            "late": "1" if state.late else "",
            "q": state.q,
            "page": "" if state.page == 1 else str(state.page),
        }
        query = urlencode({key: value for key, value in params.items() if value})
        return f"{ORDERS}?{query}" if query else ORDERS

    @property
    def path(self) -> str:
        return ORDERS
