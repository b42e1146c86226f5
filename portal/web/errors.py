"""Errors as the caller can read them: RFC 9457 problem details for machines (`/api`, `/health`,
`/ready`), a page in the reader's language for people."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from jinja2 import Environment
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from portal.auth.guards import SignInRequired
from portal.domain.errors import Conflict, DomainError, NotFound
from portal.settings import Settings
from portal.web.deps import i18n_for
from portal.web.rendering import View

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
MACHINE_PATHS = ("/api", "/health", "/ready")


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details; `current_version` tells a stale writer what to reload."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    current_version: int | None = None
    errors: list[Any] | None = None


def for_machines(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in MACHINE_PATHS)


def status_of(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return HTTPStatus.NOT_FOUND
    if isinstance(exc, Conflict):
        return HTTPStatus.CONFLICT
    return HTTPStatus.UNPROCESSABLE_ENTITY


def exception_handlers(settings: Settings, env: Environment) -> ExceptionHandlersMap:
    def respond(
        request: Request[Any, Any, Any],
        status: int,
        detail: str | None,
        *,
        current_version: int | None = None,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response[Any]:
        if for_machines(request.url.path):
            problem = Problem(
                type="about:blank",
                title=HTTPStatus(status).phrase,
                status=status,
                detail=detail,
                instance=request.url.path,
                current_version=current_version,
                errors=errors,
            )
            return Response(
                msgspec.json.encode(problem),
                media_type=PROBLEM_JSON,
                status_code=status,
                headers=headers,
            )
        view = View(request, env, i18n_for(request, settings))
        response = view.page(
            "error.html",
            {"status": status, "detail": detail, "current_version": current_version},
            status_code=status,
        )
        response.headers.update(headers or {})
        return response

    def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
        return respond(
            request,
            status_of(exc),
            i18n_for(request, settings).explain(exc),
            current_version=exc.current_version if isinstance(exc, Conflict) else None,
        )

    def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        # Litestar's own messages for 404/405 are the bare status phrase: say nothing more.
        detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
        errors = exc.extra if isinstance(exc.extra, list) and exc.extra else None
        return respond(request, exc.status_code, detail, errors=errors, headers=exc.headers)

    def sign_in_required(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
        if request.headers.get("hx-request") == "true":
            # htmx would swap a redirect's target into the page; tell it to go there instead.
            return Response(b"", status_code=401, headers={"HX-Redirect": exc.location})
        return Redirect(exc.location, status_code=303)

    def server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, HTTP_500_INTERNAL_SERVER_ERROR, None)

    return {
        SignInRequired: sign_in_required,
        DomainError: domain_error,
        HTTPException: http_error,
        HTTP_500_INTERNAL_SERVER_ERROR: server_error,
    }
