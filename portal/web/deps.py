"""Dependency providers: what a handler may ask for by name (`settings`, `db`, `uow`, `actor`,
`i18n`, `view`, and `channels` from the live updates)."""

from __future__ import annotations

from typing import Any, cast

from jinja2 import Environment
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException

from portal.auth.guards import current
from portal.auth.principal import Principal
from portal.db.database import Database
from portal.domain.actors import Actor
from portal.services.unit_of_work import AfterCommit, UnitOfWork
from portal.settings import Settings
from portal.web.i18n import LANG_COOKIE, LANG_PARAM, I18n, choose_locale, match_locale
from portal.web.rendering import View


def principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in caller the global guard resolved. Only routes that require a scope ask
    for it, and the guard has refused those to anonymous callers already."""
    found = current(request)
    if found is None:
        raise NotAuthorizedException(detail="Please sign in.")
    return found


def actor(principal: NamedDependency[Principal]) -> Actor:
    """Who acts: what every service records and every repository confines its queries to."""
    return principal.actor


def i18n_for(request: Request[Any, Any, Any], settings: Settings) -> I18n:
    asked = request.query_params.get(LANG_PARAM)
    signed_in = current(request)
    code = choose_locale(
        query=asked,
        cookie=request.cookies.get(LANG_COOKIE),
        header=request.headers.get("accept-language"),
        default=settings.default_locale,
        preferred=signed_in.locale if signed_in else None,
    )
    time_zone = (signed_in.time_zone if signed_in else None) or settings.time_zone
    return I18n(code, time_zone, remember=bool(asked and match_locale([asked])))


def database(state: State) -> Database:
    return cast(Database, state.db)


def dependencies(
    settings: Settings, env: Environment, after_commit: AfterCommit | None = None
) -> dict[str, Provide]:
    def provide_settings() -> Settings:
        return settings

    def provide_uow(db: NamedDependency[Database]) -> UnitOfWork:
        """A unit of work for one command, under the settings' business rules; what it commits
        is announced to open pages."""
        return UnitOfWork(db, settings.rules, after_commit=after_commit)

    def provide_i18n(request: Request[Any, Any, Any]) -> I18n:
        return i18n_for(request, settings)

    def provide_view(request: Request[Any, Any, Any], i18n: NamedDependency[I18n]) -> View:
        return View(request, env, i18n)

    return {
        "settings": Provide(provide_settings, sync_to_thread=False),
        "db": Provide(database, sync_to_thread=False),
        "uow": Provide(provide_uow, sync_to_thread=False),
        "principal": Provide(principal, sync_to_thread=False),
        "actor": Provide(actor, sync_to_thread=False),
        "i18n": Provide(provide_i18n, sync_to_thread=False),
        "view": Provide(provide_view, sync_to_thread=False),
    }
