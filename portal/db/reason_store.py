"""The reason codes as admins shaped them, read from the `reason_code` table.

The built-in codes (`portal.domain.orders.REASON_CODES`, labelled in portal/i18n) are the
defaults. A row for a built-in code relabels or deactivates it; a row for another code adds
one. `catalog()` reads them (one small query) into the domain's `ReasonCatalog`; `activate()`
makes it the one the current request or command obeys.
"""

from __future__ import annotations

from typing import Any

from portal.db import tables as t
from portal.domain.orders import REASON_CATALOG, REASON_CODES, ReasonCatalog


async def rows() -> list[dict[str, Any]]:
    """Every stored row, added codes in their order (position, then when added)."""
    found = (
        await t.ReasonCode.select().order_by(t.ReasonCode.position).order_by(t.ReasonCode.id).run()
    )
    return list(found)


def catalog_of(stored: list[dict[str, Any]]) -> ReasonCatalog:
    if not stored:
        return ReasonCatalog()
    by_code = {row["code"]: row for row in stored}
    active = [code for code in REASON_CODES if by_code.get(code, {"active": True})["active"]]
    active += [row["code"] for row in stored if row["code"] not in REASON_CODES and row["active"]]
    return ReasonCatalog(
        active=tuple(active),
        retired=frozenset(row["code"] for row in stored if not row["active"]),
        labels={row["code"]: (row["label_en"], row["label_zh"]) for row in stored},
    )


async def catalog() -> ReasonCatalog:
    return catalog_of(await rows())


async def activate() -> ReasonCatalog:
    """Read the catalog and make it the current one (for this task's context)."""
    found = await catalog()
    REASON_CATALOG.set(found)
    return found
