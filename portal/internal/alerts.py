"""Early warnings for our staff: the open alerts page (/alerts) and GET /api/v1/alerts.

Both list the alerts the scanner (`portal.services.alerts`) keeps open, filtered by rule, level,
supplier or customer organisation and owner, each linking to the order whose timeline tells it.
Only our own staff (timeline:read): an alert names every supplier and customer; anyone else is
told the page does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, QueryParameter
from msgspec import Meta

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.db import alert_queries
from portal.db.alert_queries import AlertFilter
from portal.domain.actors import Actor, Side
from portal.domain.alerts import Level, Rule
from portal.domain.errors import NotFound
from portal.i18n import labels
from portal.services.unit_of_work import utc_now
from portal.web import api
from portal.web.api import Checks
from portal.web.i18n import I18n
from portal.web.rendering import View

ALERTS = "/alerts"
PREFIX = "/api/v1"
API_PATH = "/alerts"
PER_PAGE = 200
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
RULES = tuple(rule.value for rule in Rule)
LEVELS = tuple(level.value for level in Level)


def _ours(actor: Actor) -> None:
    """Only our staff learn that alerts exist."""
    if actor.side != Side.INTERNAL:
        raise NotFound("The page {path} was not found.", path=ALERTS)


def order_path(stream: str, number: str) -> str:
    key = quote(number, safe="")
    return f"/sales-orders/{key}" if stream.startswith("so/") else f"/purchase-orders/{key}"


def age_hours(now: datetime, due_at: datetime | None) -> int | None:
    """Hours since the awaited thing was due (None when it is still to come)."""
    if due_at is None or due_at > now:
        return None
    return int((now - due_at).total_seconds() // 3600)


def owner_of(actor: Actor) -> int | None:
    return int(actor.id) if actor.id is not None and actor.id.isdigit() else None


# --- The page ----------------------------------------------------------------------------------


@get(ALERTS, name="alerts", include_in_schema=False, opt=requires(s.TIMELINE_READ))
async def alerts_page(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    rule: FromQuery[str] = "",
    level: FromQuery[str] = "",
    org: FromQuery[str] = "",
    mine: FromQuery[str] = "",
) -> Response[str]:
    _ours(actor)
    me = owner_of(actor)
    chosen = AlertFilter(
        rule=rule if rule in RULES else "",
        level=level if level in LEVELS else "",
        org=org.strip(),
        owner_id=me if mine and me is not None else None,
    )
    now = utc_now()
    rows = await alert_queries.list_open(chosen, limit=PER_PAGE)
    items = [
        {
            **row,
            "rule_label": labels.ALERT_RULES.get(row["rule"], row["rule"]),
            "level_label": labels.ALERT_LEVELS.get(row["level"], row["level"]),
            "age": age_hours(now, row["due_at"]),
            # Red: gone to a manager, or past the time it was due.
            "red": row["level"] == Level.ESCALATED or age_hours(now, row["due_at"]) is not None,
            "escalated": row["level"] == Level.ESCALATED,
            "path": order_path(row["stream"], row["number"]),
        }
        for row in rows
    ]
    query = {
        name: value
        for name, value in (
            ("rule", chosen.rule),
            ("level", chosen.level),
            ("org", chosen.org),
            ("mine", "1" if chosen.owner_id is not None else ""),
        )
        if value
    }
    return view.page(
        "internal/alerts.html",
        {
            "alerts": items,
            "chosen": chosen,
            "mine": chosen.owner_id is not None,
            "can_be_mine": me is not None,
            "rules": [(code, labels.ALERT_RULES[code]) for code in RULES],
            "levels": [(code, labels.ALERT_LEVELS[code]) for code in LEVELS],
            "orgs": await alert_queries.open_orgs(),
            "self_url": f"{ALERTS}?{urlencode(query)}" if query else ALERTS,
            "capped": len(rows) == PER_PAGE,
        },
    )


# --- The API -----------------------------------------------------------------------------------


class OpenAlert(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    rule: Annotated[
        str, Meta(description="One of " + ", ".join(RULES) + ".", examples=["po_unacknowledged"])
    ]
    subject: Annotated[
        str,
        Meta(
            description='What it is about: "po/<N>", "po/<N>/line/<n>", "so/<N>/line/<n>", '
            '"cr/<CR number>" or "shipment/<ASN number>".',
            examples=["po/PO-2026-00042/line/1"],
        ),
    ]
    order: Annotated[str, Meta(description="The order's number.", examples=["PO-2026-00042"])]
    order_kind: Annotated[str, Meta(description="purchase or sales.", examples=["purchase"])]
    org: Annotated[
        str, Meta(description="The supplier or customer organisation.", examples=["ACME"])
    ]
    owner: Annotated[
        str, Meta(description="The order's buyer or sales owner.", examples=["Wang Fang"])
    ]
    level: Annotated[str, Meta(description="raised or escalated.", examples=["escalated"])]
    due_at: Annotated[
        datetime | None,
        Meta(description="When the awaited thing was due.", examples=["2026-03-02T09:00:00Z"]),
    ]
    raised_at: datetime
    escalated_at: datetime | None
    data: Annotated[
        dict[str, Any],
        Meta(
            description="What tripped it: dates, quantities, the shipment or change request.",
            examples=[{"line_no": 1, "need_date": "2026-03-20", "promised_date": "2026-03-25"}],
        ),
    ]


class AlertPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[OpenAlert]
    """Oldest raised first."""
    next_cursor: str | None
    """Pass it as `cursor` for the next page; null on the last page."""
    next: str | None
    """The next page's URL (also in the Link header); null on the last page."""


def _alert(row: dict[str, Any]) -> OpenAlert:
    return OpenAlert(
        id=row["id"],
        rule=row["rule"],
        subject=row["subject"],
        order=row["number"],
        order_kind="sales" if row["stream"].startswith("so/") else "purchase",
        org=row["org"],
        owner=row["owner_name"],
        level=row["level"],
        due_at=row["due_at"],
        raised_at=row["raised_at"],
        escalated_at=row["escalated_at"],
        data=row["data"] if isinstance(row["data"], dict) else {},
    )


@get(
    API_PATH,
    operation_id="listAlerts",
    summary="List open alerts",
    tags=["Alerts"],
    security=[{"oauth2": [s.TIMELINE_READ]}],
    opt=requires(s.TIMELINE_READ),
    responses={
        200: ResponseSpec(
            data_container=AlertPage,
            description="One page of open alerts, oldest raised first.",
            generate_examples=False,
        ),
        **api.problem_responses(400, 401, 403, 422),
    },
)
async def list_alerts(
    actor: NamedDependency[Actor],
    i18n: NamedDependency[I18n],
    rule: Annotated[
        str | None, QueryParameter(description="Only this rule: " + ", ".join(RULES) + ".")
    ] = None,
    level: Annotated[str | None, QueryParameter(description="raised or escalated.")] = None,
    org: Annotated[
        str | None, QueryParameter(description="Only this supplier's or customer's.")
    ] = None,
    cursor: Annotated[
        str | None, QueryParameter(description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response[bytes]:
    """The alerts open now (our staff only), oldest raised first, paged by an opaque cursor
    (`next_cursor`, or the `next` link)."""
    _ours(actor)
    checks = Checks(i18n)
    if rule:
        checks.choice("rule", rule, RULES)
    if level:
        checks.choice("level", level, LEVELS)
    checks.done()
    after = api.decode_cursor(cursor, i18n)[1] if cursor else 0
    rows = await alert_queries.list_open(
        AlertFilter(rule=rule or "", level=level or "", org=(org or "").strip()),
        after_id=after,
        limit=limit + 1,
    )
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = api.encode_cursor(rows[-1]["raised_at"], rows[-1]["id"]) if more else None
    next_url = None
    headers: dict[str, str] = {}
    if next_cursor is not None:
        query = {"rule": rule, "level": level, "org": org, "limit": limit}
        kept = {key: value for key, value in query.items() if value not in (None, "")}
        next_url = f"{PREFIX}{API_PATH}?{urlencode({**kept, 'cursor': next_cursor})}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    page = AlertPage(items=[_alert(row) for row in rows], next_cursor=next_cursor, next=next_url)
    return api.json_response(page, headers=headers)


API_ROUTER = Router(
    PREFIX, route_handlers=[list_alerts], exception_handlers=api.exception_handlers()
)
ROUTES: list[HTTPRouteHandler | Router] = [alerts_page, API_ROUTER]
"""The alerts page and the alerts API (under /api/v1)."""
