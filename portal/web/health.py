"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import logging

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from portal.auth.guards import public
from portal.db.database import Database
from portal.db.migrations import pending_migrations

logger = logging.getLogger(__name__)


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    """`ready`, or `unavailable` when any check failed."""
    checks: dict[str, str]
    """Each check and its outcome: `ok`, or what is wrong."""


@get("/health", sync_to_thread=False, opt=public())
def health() -> Health:
    """The process answers; says nothing about the database on purpose (see /ready)."""
    return Health(status="ok")


@get("/ready", opt=public())
async def ready(db: NamedDependency[Database]) -> Response[Readiness]:
    checks = {"database": "ok", "migrations": "ok"}
    try:
        await db.ping()
        pending = await pending_migrations(db)
    except Exception as error:
        logger.warning("readiness: the database does not answer: %s", error)
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    else:
        if pending:
            checks["migrations"] = f"{len(pending)} pending: run `portal migrate`"
    ok = all(outcome == "ok" for outcome in checks.values())
    return Response(
        Readiness(status="ready" if ok else "unavailable", checks=checks),
        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
    )


ROUTES = [health, ready]
