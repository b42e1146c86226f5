"""Supplier scorecards (供应商绩效): the ranking for a period (/scorecards), one supplier's
figures against their targets with their trend (/scorecards/{code}), and the same figures for
systems (GET /api/v1/suppliers/{code}/scorecard).

Internal staff (timeline:read) see every supplier; a supplier's user (po:read) sees only its
own organisation's scorecard: any other code is 404, exactly like a code that does not exist,
and the ranking page takes it to its own scorecard. The figures are defined in
`portal.domain.scorecard`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from portal.auth import scopes as s
from portal.auth.guards import requires
from portal.auth.principal import Principal
from portal.db import scorecard_queries as q
from portal.domain.actors import Side
from portal.domain.errors import NotFound
from portal.domain.scorecard import TARGETS, Figure, Period, Scorecard, ranking
from portal.web import api
from portal.web.i18n import I18n
from portal.web.rendering import View

LIST = "/scorecards"
API_PREFIX = "/api/v1"
API_PATH = "/suppliers/{code:str}/scorecard"
TREND_PERIODS = 6
RATES = {Figure.ON_TIME_NEED, Figure.ON_TIME_PROMISE, Figure.FILL_RATE, Figure.ACCURACY}
HOURS = {Figure.ACK_HOURS, Figure.SUPPLIER_CR_HOURS, Figure.BUYER_CR_HOURS}
ORDER = [
    Figure.ON_TIME_NEED,
    Figure.ON_TIME_PROMISE,
    Figure.FILL_RATE,
    Figure.ACCURACY,
    Figure.ACK_HOURS,
    Figure.SUPPLIER_CR_HOURS,
    Figure.BUYER_CR_HOURS,
    Figure.PROMISE_MOVES,
]


def today() -> Any:
    return datetime.now(UTC).date()


def parse_period(text: str, kind: str = "month") -> Period:
    """`2026-03`, `2026-Q1`, or empty for the current month (quarter when `kind` says so)."""
    if not text:
        return Period.containing(today(), 3 if kind == "quarter" else 1)
    try:
        return Period.parse(text)
    except ValueError:
        raise ValidationException(
            f"Unknown period {text!r}; use a month (2026-03) or a quarter (2026-Q1)."
        ) from None


def may_see(principal: Principal, code: str) -> bool:
    actor = principal.actor
    if actor.side == Side.SUPPLIER:
        return actor.org == code
    return actor.side == Side.INTERNAL and principal.holds(s.TIMELINE_READ)


async def _supplier(principal: Principal, code: str) -> q.SupplierName:
    found = await q.supplier(code) if may_see(principal, code) else None
    if found is None:
        raise NotFound("Supplier {code} was not found.", code=code)
    return found


# --- figures as a page shows them ------------------------------------------------------------


def text(figure: Figure, value: float | None, i18n: I18n) -> str:
    if value is None:
        return i18n.gettext("no data")
    if figure in RATES:
        return f"{i18n.number(f'{value * 100:.1f}')}%"
    if figure in HOURS:
        return i18n.gettext("%(hours)s h") % {"hours": i18n.number(f"{value:.1f}")}
    return i18n.number(f"{value:.2f}")


def target_text(figure: Figure, i18n: I18n) -> str:
    target = TARGETS.get(figure)
    if target is None:
        return ""
    sign = "≥" if target.higher_is_better else "<"
    return f"{sign} {text(figure, target.value, i18n)}"


def shown(card: Scorecard, i18n: I18n) -> dict[str, Any]:
    """Each figure of a card: its value as text, its target, met or not, and a 0..1 share
    for a gauge (hours: the target sits at the middle of the dial)."""
    figures = {}
    for figure in ORDER:
        value = card.value(figure)
        target = TARGETS.get(figure)
        if value is None:
            share = 0.0
        elif figure in RATES:
            share = value
        elif target is not None:
            share = min(value / (2 * target.value), 1.0)
        else:
            share = min(value / 2, 1.0)
        figures[figure.value] = {
            "value": value,
            "text": text(figure, value, i18n),
            "target": target.value if target else None,
            "target_share": (target.value if figure in RATES else 0.5) if target else None,
            "target_text": target_text(figure, i18n),
            "met": card.met(figure),
            "share": share,
            "rate": figure in RATES,
        }
    return {
        "supplier": card.supplier,
        "period": card.period.code,
        "figures": figures,
        "targets_met": card.targets_met,
        "targets": len(TARGETS),
    }


def periods_to_pick(kind: str, current: Period, count: int = 12) -> list[str]:
    months = 3 if kind == "quarter" else 1
    latest = Period.containing(today(), months)
    picks = [period.code for period in reversed(latest.last(count))]
    if current.code not in picks:
        picks.insert(0, current.code)
    return picks


# --- pages ---------------------------------------------------------------------------------------


@get(LIST, name="scorecards", include_in_schema=False, opt=requires(s.TIMELINE_READ, s.PO_READ))
async def scorecard_ranking(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    period: FromQuery[str] = "",
    kind: FromQuery[str] = "month",
) -> Response[str] | Redirect:
    """Every supplier for one period, best first, with each figure and a bar per supplier."""
    if principal.actor.side != Side.INTERNAL or not principal.holds(s.TIMELINE_READ):
        if principal.actor.side == Side.SUPPLIER and principal.actor.org:
            return Redirect(f"{LIST}/{principal.actor.org}")
        raise NotFound("There are no scorecards for you.")
    kind = "quarter" if kind == "quarter" else "month"
    chosen = parse_period(period, kind)
    kind = "quarter" if chosen.months == 3 else "month"
    names = {name.code: name.name for name in await q.suppliers()}
    cards = await q.all_scorecards([chosen], today())
    ranked = ranking(card[0] for card in cards.values())
    return view.page(
        "internal/scorecards.html",
        {
            "period": chosen.code,
            "kind": kind,
            "periods": periods_to_pick(kind, chosen),
            "rows": [
                {**shown(card, view.i18n), "name": names.get(card.supplier, card.supplier)}
                for card in ranked
            ],
            "figures": [figure.value for figure in ORDER],
        },
    )


@get(
    LIST + "/{code:str}",
    name="scorecard",
    include_in_schema=False,
    opt=requires(s.TIMELINE_READ, s.PO_READ),
)
async def scorecard_page(
    view: NamedDependency[View],
    principal: NamedDependency[Principal],
    code: FromPath[str],
    period: FromQuery[str] = "",
    kind: FromQuery[str] = "month",
) -> Response[str]:
    """One supplier: each figure against its target, its trend, its place in the ranking."""
    supplier = await _supplier(principal, code)
    chosen = parse_period(period, "quarter" if kind == "quarter" else "month")
    kind = "quarter" if chosen.months == 3 else "month"
    trend = chosen.last(TREND_PERIODS)
    cards = await q.supplier_scorecards(code, trend, today())
    place, of = await _place(code, chosen)
    return view.page(
        "internal/scorecard.html",
        {
            "supplier": supplier,
            "period": chosen.code,
            "kind": kind,
            "periods": periods_to_pick(kind, chosen),
            "card": shown(cards[-1], view.i18n),
            "trend": [shown(card, view.i18n) for card in cards],
            "figures": [figure.value for figure in ORDER],
            "place": place,
            "ranked_of": of,
            "internal": principal.actor.side == Side.INTERNAL,
        },
    )


async def _place(code: str, period: Period) -> tuple[int, int]:
    cards = await q.all_scorecards([period], today())
    ranked = [card.supplier for card in ranking(card[0] for card in cards.values())]
    return (ranked.index(code) + 1 if code in ranked else 0), len(ranked)


# --- API -----------------------------------------------------------------------------------------


class FigureValue(msgspec.Struct, frozen=True, kw_only=True):
    name: Annotated[
        str, Meta(description="One of: " + ", ".join(figure.value for figure in ORDER) + ".")
    ]
    value: Annotated[
        float | None,
        Meta(description="Rates as a share (0.95 = 95 %), times in hours; null: nothing to count."),
    ]
    count: Annotated[
        float, Meta(description="What the figure was worked out from: lines, hours' samples...")
    ]
    target: float | None
    target_met: bool | None
    higher_is_better: bool | None


class PeriodScore(msgspec.Struct, frozen=True, kw_only=True):
    period: Annotated[str, Meta(examples=["2026-03", "2026-Q1"])]
    figures: list[FigureValue]
    targets_met: int


class SupplierScorecard(msgspec.Struct, frozen=True, kw_only=True):
    supplier: str
    supplier_name: str
    period: str
    rank: Annotated[
        int, Meta(description="Its place among all suppliers for the period (1 = best).")
    ]
    ranked_of: int
    figures: list[FigureValue]
    trend: Annotated[list[PeriodScore], Meta(description="The last periods, oldest first.")]


def _figures(card: Scorecard) -> list[FigureValue]:
    out = []
    for figure in ORDER:
        found = getattr(card, figure.value)
        target = TARGETS.get(figure)
        out.append(
            FigureValue(
                name=figure.value,
                value=card.value(figure),
                count=float(found.total if hasattr(found, "total") else found.count),
                target=target.value if target else None,
                target_met=card.met(figure),
                higher_is_better=target.higher_is_better if target else None,
            )
        )
    return out


EXAMPLE = {
    "supplier": "ACME",
    "supplier_name": "Acme Fasteners",
    "period": "2026-03",
    "rank": 2,
    "ranked_of": 7,
    "figures": [
        {
            "name": "on_time_promise",
            "value": 0.96,
            "count": 25,
            "target": 0.95,
            "target_met": True,
            "higher_is_better": True,
        },
        {
            "name": "ack_hours",
            "value": 30.5,
            "count": 4,
            "target": 24.0,
            "target_met": False,
            "higher_is_better": False,
        },
    ],
    "trend": [{"period": "2026-02", "figures": [], "targets_met": 5}],
}


@get(
    API_PATH,
    operation_id="getSupplierScorecard",
    summary="Read a supplier's scorecard",
    tags=["Suppliers"],
    security=[{"oauth2": [s.PO_READ]}, {"oauth2": [s.TIMELINE_READ]}],
    opt=requires(s.TIMELINE_READ, s.PO_READ),
    responses={
        200: ResponseSpec(
            data_container=SupplierScorecard,
            description="The figures for the period, against their targets, with the trend.",
            generate_examples=False,
            examples=[Example(summary="A month", value=EXAMPLE)],
        ),
        **api.problem_responses(400, 401, 403, 404),
    },
)
async def scorecard_api(
    principal: NamedDependency[Principal],
    code: FromPath[str],
    period: Annotated[
        str,
        QueryParameter(
            description="A month (2026-03) or a quarter (2026-Q1); default: this month."
        ),
    ] = "",
    periods: Annotated[
        int, QueryParameter(ge=1, le=24, description="How many periods the trend shows.")
    ] = TREND_PERIODS,
) -> Response[bytes]:
    """A supplier's scorecard: on-time delivery against the need date and against the first
    confirmed promise, fill rate, quantity accuracy, acknowledgement latency, change request
    response (the supplier's and the buyer's) and promise stability. Suppliers read their own
    (po:read); internal staff read any (timeline:read). Another supplier's code is 404."""
    supplier = await _supplier(principal, code)
    chosen = parse_period(period)
    cards = await q.supplier_scorecards(code, chosen.last(periods), today())
    place, of = await _place(code, chosen)
    return api.json_response(
        SupplierScorecard(
            supplier=supplier.code,
            supplier_name=supplier.name,
            period=chosen.code,
            rank=place,
            ranked_of=of,
            figures=_figures(cards[-1]),
            trend=[
                PeriodScore(
                    period=card.period.code, figures=_figures(card), targets_met=card.targets_met
                )
                for card in cards
            ],
        )
    )


API_ROUTER = Router(
    API_PREFIX, route_handlers=[scorecard_api], exception_handlers=api.exception_handlers()
)
ROUTES: list[ControllerRouterHandler] = [scorecard_ranking, scorecard_page, API_ROUTER]
