"""A table's state in the URL (`?status=&sort=&page=`): parsed from the query, and the links
that change one part of it. The server pages, sorts and filters; the URL says how."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlencode

import msgspec
from litestar.exceptions import ValidationException

from portal.db.queries import Sort, SortKey

DEFAULT_SORT = "-updated"

S = TypeVar("S", bound=StrEnum)


def parse_sort(text: str) -> Sort:
    """`number` sorts ascending, `-number` descending."""
    try:
        return Sort(SortKey(text.removeprefix("-")), descending=text.startswith("-"))
    except ValueError:
        keys = ", ".join(key.value for key in SortKey)
        raise ValidationException(f"Unknown sort {text!r}; sort by one of: {keys}.") from None


def parse_status(text: str, statuses: type[S]) -> S | None:
    """The status to show only, or None (an empty value) for all of them."""
    if not text:
        return None
    try:
        return statuses(text)
    except ValueError:
        known = ", ".join(status.value for status in statuses)
        raise ValidationException(f"Unknown status {text!r}; use one of: {known}.") from None


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    status: str = ""
    sort: str = DEFAULT_SORT
    filters: tuple[tuple[str, str], ...] = ()
    """Further filters in force (name, value), carried into every link of the table."""

    def url(self, *, sort: str | None = None, page: int = 1) -> str:
        """This table with another order or page; a new order starts at page 1."""
        params = {"status": self.status, "sort": self.sort if sort is None else sort, "page": page}
        defaults = {"status": "", "sort": DEFAULT_SORT, "page": 1}
        kept = [(key, value) for key, value in params.items() if value != defaults[key]]
        query = urlencode([*kept[:1], *self.filters, *kept[1:]])
        return f"{self.path}?{query}" if query else self.path

    def filter(self, name: str) -> str:
        """The value of one further filter ("" when not set)."""
        return dict(self.filters).get(name, "")

    def sorted_by(self, key: str) -> str | None:
        """`ascending` or `descending` when the table is sorted by `key` (for aria-sort)."""
        if self.sort.removeprefix("-") != key:
            return None
        return "descending" if self.sort.startswith("-") else "ascending"

    def sort_url(self, key: str) -> str:
        """Sorting by a column the second time reverses it."""
        return self.url(sort=f"-{key}" if self.sort == key else key)
