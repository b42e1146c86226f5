"""What tests need to act as real browsers and real OAuth clients against a running portal.

- `live_portal(database_url)`: `portal serve` in a child process on a free port, until the
  block ends; yields its base URL.
- `secure_cookie_client(base_url)`: an httpx client whose cookie jar sends `Secure` cookies
  (the `__Host-` session and CSRF cookies) to http://127.0.0.1, as a browser does for
  localhost.
- `sign_in(client, email, password, next=...)`: the real browser sign-in (form, CSRF token,
  the first-party code + PKCE flow), following every redirect.
- `add_org`, `add_user`, `add_client`, `seed_users`: rows written directly, for test setup.
  They use the tables as bound by an open `Database` (the `db` fixture).
- `pkce_pair()`, `authorize_url(...)`: for tests that play a third-party OAuth client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from portal.auth.passwords import hash_password
from portal.db import tables as t

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
TEST_SECRET_KEY = "test-secret-key-for-the-live-portal-0123456789"
DEFAULT_PASSWORD = "correct horse battery"


def secure_cookie_client(base_url: str, **kwargs: Any) -> httpx.AsyncClient:
    """A browser-like client: cookies kept, redirects not followed unless asked
    (`follow_redirects=True`).

    Browsers treat http://127.0.0.1 as a secure context and send it `Secure` cookies (the
    `__Host-` session and CSRF cookies); httpx never sends them over http://. So, after each
    response, the cookies this client keeps for a loopback host lose their Secure flag in
    its own jar (the server still set them Secure, which tests can check on the response)."""

    async def keep_secure_cookies(response: httpx.Response) -> None:
        for cookie in client.cookies.jar:
            if cookie.domain in LOOPBACK or cookie.domain.removesuffix(".local") in LOOPBACK:
                cookie.secure = False

    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=30,
        event_hooks={"response": [keep_secure_cookies]},
        **kwargs,
    )
    return client


CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_INPUT.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str, next: str = "/"
) -> httpx.Response:
    """Sign in through the form, as a browser does, and follow every redirect; the response
    is the page finally reached (or the sign-in page again, with its error)."""
    form = await client.get("/sign-in", params={"next": next})
    assert form.status_code == 200, form.text
    return await client.post(
        "/sign-in",
        data={
            "email": email,
            "password": password,
            "next": next,
            "_csrf_token": csrf_token_of(form.text),
        },
        follow_redirects=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_portal(database_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`portal serve` in a child process on a free port against `database_url` (migrated);
    yields the base URL once /health answers, and stops the process afterwards."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        settings = {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_BASE_URL": base_url,
            "PORTAL_SECRET_KEY": TEST_SECRET_KEY,
            "PORTAL_MAIL_DIR": os.path.join(scratch, "mail"),
            "PORTAL_LOG_LEVEL": "WARNING",
            # A portal shares its database with the other tests of this process: its dispatcher
            # would fan out their events in the background. Tests of notifications turn it on.
            "PORTAL_DISPATCHER": "false",
            **(env or {}),
        }
        log_path = os.path.join(scratch, "portal.log")
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
                env={**os.environ, **settings},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], log_path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(log_path) as log:
                raise AssertionError(f"portal serve exited early:\n{log.read()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    with open(log_path) as log:
        raise AssertionError(f"portal serve did not answer /health within 60 s:\n{log.read()}")


async def add_org(code: str, kind: str = "supplier", name: str | None = None) -> str:
    await t.Organisation.insert(t.Organisation(code=code, name=name or code, kind=kind)).run()
    return code


async def add_user(
    email: str,
    *,
    org: str,
    role: str,
    password: str | None = DEFAULT_PASSWORD,
    active: bool = True,
    display_name: str | None = None,
    locale: str = "en",
    time_zone: str = "UTC",
) -> int:
    """A user with an Argon2 password hash (None: no password yet, as an invited user)."""
    rows = await t.AppUser.insert(
        t.AppUser(
            email=email,
            display_name=display_name or email.split("@")[0].title(),
            org=org,
            role=role,
            locale=locale,
            time_zone=time_zone,
            password_hash=hash_password(password) if password is not None else None,
            active=active,
        )
    ).run()
    user_id: int = rows[0]["id"]
    return user_id


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def add_client(
    client_id: str,
    *,
    org: str,
    role: str,
    scope: str,
    grant_types: str = "client_credentials",
    secret: str | None = None,
    redirect_uris: Sequence[str] = (),
    auth_method: str | None = None,
    first_party: bool = False,
    active: bool = True,
) -> str | None:
    """An OAuth client row; confidential when `secret` is given (stored as its SHA-256).
    Returns the secret."""
    method = auth_method or ("client_secret_basic" if secret else "none")
    await t.OAuthClient.insert(
        t.OAuthClient(
            client_id=client_id,
            name=client_id,
            org=org,
            role=role,
            secret_hash=sha256_hex(secret) if secret else None,
            grant_types=grant_types,
            scope=scope,
            redirect_uris="\n".join(redirect_uris),
            token_endpoint_auth_method=method,
            first_party=first_party,
            active=active,
        )
    ).run()
    return secret


async def seed_users(
    orgs: Sequence[tuple[str, str]], users: Sequence[tuple[str, str, str]]
) -> dict[str, int]:
    """`orgs`: (code, kind); `users`: (email, org, role), each with DEFAULT_PASSWORD.
    Returns the user ids by e-mail."""
    for code, kind in orgs:
        await add_org(code, kind)
    return {email: await add_user(email, org=org, role=role) for email, org, role in users}


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(
    client_id: str,
    redirect_uri: str,
    *,
    scope: str,
    state: str = "st-1",
    challenge: str | None = None,
    method: str | None = "S256",
    **extra: str,
) -> str:
    """/oauth/authorize with the given parameters (None leaves one out)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": method,
        **extra,
    }
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


# A third-party client's side of the OAuth flows (Acme's ERP, Acme's user Sue).

ERP = "acme-erp"
ERP_SECRET = "erp-secret-0123456789"
ERP_CALLBACK = "https://erp.acme.example/oauth/callback"
SUE = "sue@acme.test"


async def seed_supplier(email: str = SUE) -> str:
    """Acme (a supplier) with its user Sue and its ERP as a confidential code-flow client.
    Tests sharing one running portal give Sue a different e-mail each, so the sign-in rate
    limit (per e-mail) never joins them up. Returns her e-mail."""
    await add_org("ACME", "supplier")
    await add_user(email, org="ACME", role="supplier", display_name="Sue Supplier")
    await add_client(
        ERP,
        org="ACME",
        role="supplier",
        scope="openid profile email po:read po:ship",
        grant_types="authorization_code refresh_token",
        secret=ERP_SECRET,
        redirect_uris=[ERP_CALLBACK],
    )
    return email


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def authorize_as_sue(
    browser: httpx.AsyncClient,
    *,
    email: str = SUE,
    scope: str = "openid po:read",
    nonce: str = "n-0S6",
) -> tuple[str, str]:
    """Sue signs in if she has not (sent there by the authorization endpoint), allows the ERP
    on the consent page; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    url = authorize_url(ERP, ERP_CALLBACK, scope=scope, challenge=challenge, nonce=nonce)
    consent = await browser.get(url)
    if consent.status_code == 303:  # not signed in yet
        assert consent.headers["location"].startswith("/sign-in?next=")
        consent = await sign_in(browser, email, DEFAULT_PASSWORD, next=url)
    assert consent.status_code == 200, consent.text
    assert "acme-erp" in consent.text and "po:read" in consent.text
    answer = await browser.post(
        url, data={"decision": "allow", "_csrf_token": csrf_token_of(consent.text)}
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(ERP_CALLBACK + "?")
    params = query_of(location)
    assert params["state"] == "st-1"
    return params["code"], verifier


async def exchange(api: httpx.AsyncClient, code: str, verifier: str | None) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": ERP_CALLBACK}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await api.post("/oauth/token", data=form, auth=(ERP, ERP_SECRET))


async def refresh(api: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await api.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(ERP, ERP_SECRET),
    )


async def introspect(
    api: httpx.AsyncClient, token: str, auth: tuple[str, str] = (ERP, ERP_SECRET)
) -> dict[str, Any]:
    response = await api.post("/oauth/introspect", data={"token": token}, auth=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded
