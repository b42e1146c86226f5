"""Dependency providers: what a handler may ask for by name (`settings`, `db`, `actor`, `i18n`,
`view`)."""

from __future__ import annotations

from typing import Any, cast

from jinja2 import Environment
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.settings import Settings
from portal.web.i18n import LANG_COOKIE, LANG_PARAM, I18n, choose_locale, match_locale
from portal.web.rendering import View


def viewer() -> Actor:
    """Who is reading. Until sign-in exists, everyone is the internal read-only viewer; the
    sign-in issue replaces this provider, and every query confines what it returns to it."""
    return Actor(ActorKind.USER, None, None, Side.INTERNAL, "viewer", Via.WEB)


def i18n_for(request: Request[Any, Any, Any], settings: Settings) -> I18n:
    asked = request.query_params.get(LANG_PARAM)
    code = choose_locale(
        query=asked,
        cookie=request.cookies.get(LANG_COOKIE),
        header=request.headers.get("accept-language"),
        default=settings.default_locale,
    )
    return I18n(code, settings.time_zone, remember=bool(asked and match_locale([asked])))


def database(state: State) -> Database:
    return cast(Database, state.db)


def dependencies(settings: Settings, env: Environment) -> dict[str, Provide]:
    def provide_settings() -> Settings:
        return settings

    def provide_i18n(request: Request[Any, Any, Any]) -> I18n:
        return i18n_for(request, settings)

    def provide_view(request: Request[Any, Any, Any], i18n: NamedDependency[I18n]) -> View:
        return View(request, env, i18n)

    return {
        "settings": Provide(provide_settings, sync_to_thread=False),
        "db": Provide(database, sync_to_thread=False),
        "actor": Provide(viewer, sync_to_thread=False),
        "i18n": Provide(provide_i18n, sync_to_thread=False),
        "view": Provide(provide_view, sync_to_thread=False),
    }
