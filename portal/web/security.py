"""Security headers on every response the portal sends: pages, API answers, errors, static files.

They are added at the ASGI level, on the `http.response.start` message, by an application-wide
`before_send` hook rather than a route middleware: Litestar builds route middleware around each
route only, so a 404 for an unknown path, a 405 and a 403 from the CSRF check (which all happen
before or outside the route's stack) would otherwise leave without them.

The Content-Security-Policy forbids inline script and style, so templates load their scripts
and styles from /static. A handler that needs a wider policy (say a form whose answer redirects
to another origin) sets its own Content-Security-Policy header, which is then kept.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from litestar.types import Message, Scope

from portal.auth.principal import Principal
from portal.settings import Settings

# No form-action: browsers apply it to the redirects that follow a submitted form, and the
# consent and company sign-in forms rightly end at other origins (the client, the provider).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
HSTS = "max-age=31536000"
TOKEN_IN_URL = ("/invitations/", "/password-reset/", "/auth/")
"""Pages whose URL carries a secret (an invitation or reset token, an authorization code on the
sign-in callbacks): no Referer may carry it on, not even to our own pages."""
NEVER_CACHED = ("/oauth/", "/sign-in", "/sign-out", "/password-reset", *TOKEN_IN_URL)
"""Answers that hold tokens or a form with a CSRF token even for anonymous callers."""
SHARED = "/static/"
"""The same files for everyone, signed in or not: caches may keep them."""

SendHook = Callable[[Message, Scope], Coroutine[Any, Any, None]]


def security_headers(scope: Scope, *, over_tls: bool) -> dict[str, str]:
    """The headers for the response to the request of `scope` (path, scheme, and the caller
    the guard resolved into `scope["auth"]`)."""
    path: str = scope.get("path", "")
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": ("no-referrer" if path.startswith(TOKEN_IN_URL) else "same-origin"),
    }
    if over_tls or scope.get("scheme") == "https":
        headers["strict-transport-security"] = HSTS
    # What a signed-in caller sees is theirs alone: no shared or browser cache may keep it.
    signed_in = isinstance(scope.get("auth"), Principal) and not path.startswith(SHARED)
    if signed_in or path.startswith(NEVER_CACHED):
        headers["cache-control"] = "no-store"
    return headers


def before_send(settings: Settings) -> SendHook:
    """The application's `before_send` hook that adds `security_headers` to every response."""
    over_tls = settings.over_tls

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        wanted = security_headers(scope, over_tls=over_tls)
        existing: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
        if any(name.lower() == b"content-security-policy" for name, _ in existing):
            del wanted["content-security-policy"]
        replaced = {name.encode() for name in wanted}
        message["headers"] = [
            *((name, value) for name, value in existing if name.lower() not in replaced),
            *((name.encode(), value.encode()) for name, value in wanted.items()),
        ]

    return add_headers
