"""Pages and their fragments, rendered from one template.

Every page template starts with `{% extends layout %}` and puts what it shows in
`{% block content %}`. A direct visit gets `layout = "base.html"` (the whole page); a request
made by htmx (`HX-Request`) gets `layout = "_fragment.html"`, which is the content block and
nothing else. So a page and its fragment never drift apart, and the template's own imports
work in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.plugins.htmx import HTMXDetails
from litestar.utils.scope.state import ScopeState

import portal
from portal.auth.guards import current
from portal.web.i18n import LANG_COOKIE, LANG_PARAM, I18n

TEMPLATES = Path(portal.__file__).parent.parent / "templates"
FULL_LAYOUT = "base.html"
FRAGMENT_LAYOUT = "_fragment.html"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
CSRF_COOKIE = "__Host-csrftoken"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
"""Every form posts the CSRF token in this field; htmx sends it in the header, from the
`hx-headers` of the page's body."""
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
"""Each language named in itself, so a reader finds theirs whatever the page is in."""


def _i18n(context: Context) -> I18n:
    return cast(I18n, context["i18n"])


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _i18n(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return _i18n(context).ngettext(singular, plural, count)


def _filter(method: str) -> Any:
    """A template filter that writes a value in the reader's language (`{{ d|date }}`)."""

    @pass_context
    def apply(context: Context, value: Any, *args: Any) -> str:
        return str(getattr(_i18n(context), method)(value, *args))

    return apply


def environment(directory: Path = TEMPLATES) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The i18n extension adds this method at run time; the callables read each render's
    # own language from its context, so one environment serves every locale at once.
    cast(Any, env).install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)
    for name in (
        "date",
        "datetime",
        "number",
        "money",
        "status",
        "event_kind",
        "reason",
        "decision",
        "change_kind",
        "cause",
        "via",
    ):
        env.filters[name] = _filter(name)
    return env


class View:
    """Renders pages for one request, in its reader's language."""

    def __init__(self, request: Request[Any, Any, Any], env: Environment, i18n: I18n) -> None:
        self.request = request
        self.env = env
        self.i18n = i18n

    @property
    def wants_fragment(self) -> bool:
        """htmx asked for a part of a page. A boosted link or a history restore replaces the
        whole body, so those get the whole page."""
        htmx = HTMXDetails(self.request)
        return bool(htmx) and not htmx.boosted and not htmx.history_restore_request

    def languages(self) -> list[tuple[str, str, str]]:
        """(locale, its own name, this page in it) for the language switch."""
        query = [(key, value) for key, value in self.request.query_params.multi_items()]
        return [
            (
                code,
                name,
                f"{self.request.url.path}?"
                + urlencode([*((k, v) for k, v in query if k != LANG_PARAM), (LANG_PARAM, code)]),
            )
            for code, name in LANGUAGE_NAMES.items()
        ]

    def render(self, template: str, context: Mapping[str, Any], *, fragment: bool) -> str:
        return self.env.get_template(template).render(
            {
                **context,
                "layout": FRAGMENT_LAYOUT if fragment else FULL_LAYOUT,
                "languages": [] if fragment else self.languages(),
                "request": self.request,
                "i18n": self.i18n,
                "csrf_field": CSRF_FIELD,
                "csrf_header": CSRF_HEADER,
                "csrf_token": ScopeState.from_scope(self.request.scope).csrf_token or "",
                "principal": current(self.request),
            }
        )

    def page(
        self, template: str, context: Mapping[str, Any] | None = None, *, status_code: int = 200
    ) -> Response[str]:
        """The whole page on a direct visit, its content block for an htmx request."""
        response = Response(
            self.render(template, context or {}, fragment=self.wants_fragment),
            media_type=MediaType.HTML,
            status_code=status_code,
            # Caches must keep the page and its fragment, and each language, apart.
            headers={"Vary": "HX-Request, Accept-Language, Cookie"},
        )
        if self.i18n.remember:
            response.set_cookie(
                Cookie(
                    key=LANG_COOKIE,
                    value=self.i18n.code,
                    max_age=LANG_COOKIE_MAX_AGE,
                    httponly=True,
                    samesite="lax",
                )
            )
        return response
