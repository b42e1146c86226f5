"""The inbox's state in its URL (`?status=&need_from=&need_to=&item=&action=1&sort=&page=`):
read from the query, turned into the inbox query's filter and sort, and written back into the
links that change one part of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import urlencode

import msgspec
from litestar.exceptions import ValidationException

from portal.db.inbox import InboxFilter, InboxSort, InboxSortKey
from portal.domain.states import POStatus

INBOX = "/supplier/purchase-orders"
DEFAULT_SORT = "-created"
"""Newest first."""


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationException(f"{name} must be a date (YYYY-MM-DD), not {text!r}.") from None


class InboxListing(msgspec.Struct, frozen=True, kw_only=True):
    status: str = ""
    need_from: str = ""
    need_to: str = ""
    item: str = ""
    action: bool = False
    """Only the orders that need the supplier's action."""
    sort: str = DEFAULT_SORT
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> InboxListing:
        page = query.get("page", "1")
        listing = cls(
            status=query.get("status", ""),
            need_from=query.get("need_from", ""),
            need_to=query.get("need_to", ""),
            item=query.get("item", "").strip(),
            action=query.get("action", "") in ("1", "on", "true"),
            sort=query.get("sort", "") or DEFAULT_SORT,
            page=int(page) if page.isdigit() and int(page) > 0 else 1,
        )
        listing.filters()  # refuse a bad value now, with its name
        listing.order()
        return listing

    def filters(self) -> InboxFilter:
        try:
            status = POStatus(self.status) if self.status else None
        except ValueError:
            known = ", ".join(status.value for status in POStatus)
            raise ValidationException(
                f"Unknown status {self.status!r}; use one of: {known}."
            ) from None
        return InboxFilter(
            status=status,
            need_from=_day(self.need_from, "need_from"),
            need_to=_day(self.need_to, "need_to"),
            item=self.item,
            needs_action=self.action,
        )

    def order(self) -> InboxSort:
        """`need` sorts ascending, `-need` descending."""
        try:
            key = InboxSortKey(self.sort.removeprefix("-"))
        except ValueError:
            keys = ", ".join(key.value for key in InboxSortKey)
            raise ValidationException(
                f"Unknown sort {self.sort!r}; sort by one of: {keys}."
            ) from None
        return InboxSort(key, descending=self.sort.startswith("-"))

    def url(self, **changes: str | int | bool) -> str:
        """This inbox with some of its state changed; a new filter or order starts at page 1."""
        state = msgspec.structs.replace(self, **changes)
        if "page" not in changes:
            state = msgspec.structs.replace(state, page=1)
        params = {
            "status": state.status,
            "need_from": state.need_from,
            "need_to": state.need_to,
            "item": state.item,
            "action": "1" if state.action else "",
            "sort": "" if state.sort == DEFAULT_SORT else state.sort,
            "page": "" if state.page == 1 else str(state.page),
        }
        query = urlencode({key: value for key, value in params.items() if value})
        return f"{INBOX}?{query}" if query else INBOX

    @property
    def path(self) -> str:
        return INBOX

    def sorted_by(self, key: str) -> str | None:
        """`ascending` or `descending` when sorted by `key` (for aria-sort)."""
        if self.sort.removeprefix("-") != key:
            return None
        return "descending" if self.sort.startswith("-") else "ascending"

    def sort_url(self, key: str) -> str:
        """Sorting by a column the second time reverses it; dates start with the newest."""
        if self.sort.removeprefix("-") == key:
            flipped = key if self.sort.startswith("-") else f"-{key}"
            return self.url(sort=flipped)
        return self.url(sort=f"-{key}" if key in ("created", "updated") else key)
