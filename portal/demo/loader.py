"""`load_demo`: organisations and people first, then every order's story, told in time order.

Only organisations and users are written directly (there is no command for them yet); every
order, change request, shipment, receipt and timeline event comes from the service commands,
so the demo's timelines are real ones and `portal verify-timeline` accepts them.
"""

from __future__ import annotations

import heapq
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.auth.passwords import hash_password_async
from portal.db import tables as t
from portal.db.database import Database
from portal.db.repositories import PurchaseOrders
from portal.demo.catalog import DEMO_PASSWORD, INTERNAL, ORGANISATIONS, PEOPLE
from portal.demo.clock import SimulatedClock, Timing
from portal.demo.plots import PLOTS
from portal.demo.story import READER, Story, World
from portal.domain.states import POStatus, SOStatus
from portal.settings import Settings

SEED = 20260
"""Fixes every random choice, so each load tells the same stories (dated relative to today)."""
WEEKS_BACK = 6


@dataclass(frozen=True, slots=True)
class SignIn:
    email: str
    role: str
    org: str
    name: str


@dataclass(frozen=True, slots=True)
class DemoResult:
    loaded: bool
    """False when the demo data was already there and nothing was added."""
    counts: dict[str, int]
    statuses: dict[str, dict[str, int]]
    sign_ins: tuple[SignIn, ...]
    base_url: str
    password: str = DEMO_PASSWORD

    def describe(self) -> str:
        head = (
            "Demo data loaded:"
            if self.loaded
            else "The demo data was already there; nothing was added. It holds:"
        )
        lines = [head, ""]
        for what, count in self.counts.items():
            by_status = ", ".join(f"{s} {n}" for s, n in self.statuses.get(what, {}).items())
            detail = textwrap.wrap(by_status, 66) or [""]
            lines.append(f"  {what:<22}{count:>6}   {detail[0]}".rstrip())
            lines += [" " * 33 + more for more in detail[1:]]
        lines += ["", f"Sign in at {self.base_url} as any of these demo users:", ""]
        lines.append(f"  {'e-mail':<38}{'role':<11}{'organisation':<14}name")
        for user in self.sign_ins:
            lines.append(f"  {user.email:<38}{user.role:<11}{user.org:<14}{user.name}")
        lines += [
            "",
            f"Password for every demo user: {self.password}",
            "These accounts and their shared password are for the demo only: do not load the",
            "demo into a portal that anyone else can reach.",
        ]
        return "\n".join(lines)


async def load_demo(db: Database, settings: Settings) -> DemoResult:
    """Load the demo once; on a database that already has it, add nothing and say so."""
    loaded = not await _already_loaded()
    if loaded:
        await _tell(db, settings, datetime.now(UTC))
    counts, statuses = await _inventory()
    return DemoResult(
        loaded=loaded,
        counts=counts,
        statuses=statuses,
        sign_ins=await _sign_ins(),
        base_url=settings.base_url,
    )


async def _already_loaded() -> bool:
    return bool(await t.Organisation.exists().where(t.Organisation.code == INTERNAL.code).run())


async def _tell(db: Database, settings: Settings, today: datetime) -> None:
    window_start = today - timedelta(weeks=WEEKS_BACK)
    user_ids = await _add_organisations_and_people(db, window_start)
    clock = SimulatedClock(window_start)
    # Stories end a few hours before now, so squeezed last steps still lie in the past.
    world = World(db, settings.rules, clock, Timing(clock, today - timedelta(hours=4)), user_ids)
    stories = [Story(world, plot, f"{SEED}/{index}") for index, plot in enumerate(PLOTS)]
    await _run(clock, [(story.start(today), story.tell()) for story in stories])


async def _run(
    clock: SimulatedClock, stories: list[tuple[datetime, AsyncIterator[datetime]]]
) -> None:
    """Interleave the stories: always resume the one whose next step is due first."""
    due = [(at, index, steps) for index, (at, steps) in enumerate(stories)]
    heapq.heapify(due)
    while due:
        at, index, steps = heapq.heappop(due)
        clock.move_to(at)
        try:
            following = await anext(steps)
        except StopAsyncIteration:
            continue
        heapq.heappush(due, (following, index, steps))


async def _add_organisations_and_people(db: Database, since: datetime) -> dict[str, int]:
    # Argon2 is slow on purpose (a quarter of a second here); the demo password is printed for
    # all to read, so one hash serves every demo user. It runs off the event loop.
    password_hash = await hash_password_async(DEMO_PASSWORD)
    joined = since - timedelta(days=3)
    async with db.write_transaction():
        await t.Organisation.insert(
            *[
                t.Organisation(code=org.code, name=org.name, kind=org.kind, created_at=joined)
                for org in ORGANISATIONS
            ]
        ).run()
        rows = (
            await t.AppUser.insert(
                *[
                    t.AppUser(
                        email=person.email,
                        display_name=person.display_name,
                        org=person.org,
                        role=person.role,
                        locale=person.locale,
                        time_zone=person.time_zone,
                        password_hash=password_hash,
                        active=True,
                        created_at=joined,
                    )
                    for person in PEOPLE
                ]
            )
            .returning(t.AppUser._meta.primary_key, t.AppUser.email)
            .run()
        )
    return {row["email"]: row["id"] for row in rows}


async def _inventory() -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """What the database holds now, for the summary the command line prints."""
    kinds = Counter(row["kind"] for row in await t.Event.select(t.Event.kind).run())
    counts = {
        "organisations": await t.Organisation.count().run(),
        "users": await t.AppUser.count().run(),
        "purchase orders": await t.PurchaseOrder.count().run(),
        "sales orders": await t.SalesOrder.count().run(),
        "change requests": await t.ChangeRequest.count().run(),
        "promise changes": kinds["line.promise_changed"],
        "expected date changes": kinds["line.expected_date_changed"],
        "shipments": await t.Shipment.count().run(),
        "receipts": await t.Receipt.count().run(),
        "comments": kinds["comment.added"],
        "timeline events": sum(kinds.values()),
    }
    organisations = await t.Organisation.select(t.Organisation.kind).run()
    users = await t.AppUser.select(t.AppUser.role).run()
    sales = await t.SalesOrder.select(t.SalesOrder.status).run()
    statuses = {
        "organisations": _tally([row["kind"] for row in organisations], ORG_KINDS),
        "users": _tally([row["role"] for row in users], ROLES),
        "purchase orders": _tally(await _purchase_order_statuses(), PO_STATUSES),
        "sales orders": _tally([row["status"] for row in sales], [s.value for s in SOStatus]),
        "change requests": _tally(await _change_request_statuses(), CR_STATUSES),
    }
    return counts, statuses


ORG_KINDS = ("internal", "supplier", "customer")
ROLES = tuple(dict.fromkeys(person.role for person in PEOPLE))
PO_STATUSES = (
    "draft",
    "issued",
    "acknowledged",
    "rejected",
    "changes_proposed",
    "in_fulfilment",
    "partially_shipped",
    "shipped",
    "partially_received",
    "received",
    "closed",
    "cancelled",
)
CR_STATUSES = (
    "open",
    "approved",
    "auto-approved",
    "rejected",
    "countered",
    "withdrawn",
    "cancelled",
)


async def _purchase_order_statuses() -> list[str]:
    """As the portal shows them: an order in fulfilment or shipped may be partly there."""
    rows = await t.PurchaseOrder.select(t.PurchaseOrder.number, t.PurchaseOrder.status).run()
    moving = (POStatus.IN_FULFILMENT.value, POStatus.SHIPPED.value)
    return [
        (await PurchaseOrders().get(READER, row["number"])).display_status
        if row["status"] in moving
        else row["status"]
        for row in rows
    ]


async def _change_request_statuses() -> list[str]:
    """Auto-approval is an approval (the status says so); the summary tells the two apart."""
    rows = await t.ChangeRequest.select(t.ChangeRequest.status, t.ChangeRequest.auto_approved).run()
    return ["auto-approved" if row["auto_approved"] else row["status"] for row in rows]


def _tally(values: list[str], order: Sequence[str]) -> dict[str, int]:
    found = Counter(values)
    known = [value for value in order if value in found]
    return {value: found[value] for value in [*known, *sorted(set(found) - set(known))]}


async def _sign_ins() -> tuple[SignIn, ...]:
    rows = (
        await t.AppUser.select(
            t.AppUser.email, t.AppUser.role, t.AppUser.org, t.AppUser.display_name
        )
        .where(t.AppUser.email.is_in([person.email for person in PEOPLE]))
        .run()
    )
    by_email = {row["email"]: row for row in rows}
    return tuple(
        SignIn(row["email"], row["role"], row["org"], row["display_name"])
        for person in PEOPLE
        if (row := by_email.get(person.email))
    )
