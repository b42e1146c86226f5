"""Sign-in through an organisation's own OpenID Connect provider: a real provider process
(the `oidc-provider-mock` package from PyPI, on 127.0.0.1) and a running portal, driven over
HTTP as a browser would. Identities are linked only from an invitation, and found by issuer and
subject, never by e-mail."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from auth_support import (
    add_org,
    add_user,
    csrf_token_of,
    free_port,
    secure_cookie_client,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey, RSAKey

from portal.auth.external import Provider, ProviderProblem, verified_identity
from portal.auth.invitations import invite
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import Actor, ActorKind, Side, Via
from portal.settings import Settings

ENGLISH = {"Accept-Language": "en"}
"""The pages' words are checked in English (the default language is Chinese)."""
ADMIN = Actor(ActorKind.USER, "1", "ACME", Side.INTERNAL, "Ada Admin", Via.WEB, "admin")
ANN = "ann@northwind.example"
ANN_SUBJECT = "northwind-employee-4711"
CLIENT_ID = "portal-at-northwind"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider in a child process on a free port; yields its issuer URL."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_dir = tmp_path_factory.mktemp("provider")
    with open(log_dir / "provider.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oidc_provider_mock",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (log_dir / "provider.log").read_text()
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the provider did not start within 30 s"
            time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


async def set_claims(issuer: str, subject: str, **claims: str) -> None:
    """What the provider says about one of its users (its own test API)."""
    async with httpx.AsyncClient() as client:
        answer = await client.put(f"{issuer}/users/{subject}", json=claims)
        assert answer.status_code == 204


async def at_provider(browser: httpx.AsyncClient, to_provider: httpx.Response, subject: str) -> str:
    """The person signs in at the provider as `subject`; returns where it sends them back."""
    assert to_provider.status_code == 303, to_provider.text
    authorize = to_provider.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert (await browser.get(authorize)).status_code == 200
    back = await browser.post(authorize, data={"sub": subject})
    assert back.status_code == 302, back.text
    return str(back.headers["location"])


async def world(issuer: str) -> int:
    await add_org("ACME", "internal")
    await add_org("SUP1", "supplier", name="Northwind")
    await add_org("SUP2", "supplier", name="Southwind")
    await t.IdentityProvider.insert(
        t.IdentityProvider(
            org="SUP1",
            name="Northwind Login",
            issuer=issuer,
            client_id=CLIENT_ID,
            client_secret="provider-side-secret",
            scope="openid email",
        )
    ).run()
    return await add_user(ANN, org="SUP1", role="supplier", password=None)


async def failures() -> list[str]:
    rows = await t.AccessLog.select().where(t.AccessLog.kind == "sign_in_failed").run()
    return [row["detail"] for row in rows]


async def test_an_invited_user_links_their_company_sign_in_and_uses_it(
    db: Database, live: str, provider: str, tmp_path: Path
) -> None:
    issuer, base_url = provider, live
    ann = await world(issuer)
    await set_claims(issuer, ANN_SUBJECT, email=ANN)
    invitation = await invite(
        db, Settings(base_url=base_url, mail_dir=str(tmp_path / "mail")), ADMIN, ann
    )

    async with secure_cookie_client(base_url, headers=ENGLISH) as browser:
        page = await browser.get(invitation.link)
        assert "Use your company sign-in" in page.text
        start = await browser.post(
            f"{invitation.link}/external", data={"_csrf_token": csrf_token_of(page.text)}
        )
        back = await at_provider(browser, start, ANN_SUBJECT)
        assert back.startswith(f"{base_url}/auth/external/callback?")
        home = await browser.get(back, follow_redirects=True)
        assert home.url.path == "/" and "Sign out" in home.text

        # The answer cannot be used twice.
        replayed = await browser.get(back)
        assert replayed.status_code == 400

    async with secure_cookie_client(base_url, headers=ENGLISH) as later:
        start = await later.get("/sign-in/external/SUP1", params={"next": "/purchase-orders"})
        back = await at_provider(later, start, ANN_SUBJECT)
        arrived = await later.get(back, follow_redirects=True)
        assert arrived.status_code == 200
        assert arrived.url.path == "/purchase-orders" and "Sign out" in arrived.text

    # Another person at the provider claims the same e-mail address: the portal does not
    # care what the address is, only who the provider says signed in.
    await set_claims(issuer, "someone-else", email=ANN)
    async with secure_cookie_client(base_url, headers=ENGLISH) as impostor:
        start = await impostor.get("/sign-in/external/SUP1")
        back = await at_provider(impostor, start, "someone-else")
        refused = await impostor.get(back, follow_redirects=True)
        assert refused.status_code == 403
        assert "Ask your administrator for an invitation" in refused.text
        assert (await impostor.get("/", follow_redirects=True)).url.path == "/sign-in"

    links = await t.ExternalIdentity.select().run()
    assert [(row["issuer"], row["subject"], row["user_id"]) for row in links] == [
        (issuer, ANN_SUBJECT, ann)
    ]
    used = await t.OneTimeLink.select(t.OneTimeLink.used_at).first().run()
    assert used is not None and used["used_at"] is not None
    methods = {row["method"] for row in await t.WebSession.select(t.WebSession.method).run()}
    assert methods == {"oidc:SUP1"}
    assert "unknown_identity" in str(await failures())


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, "state": state})))


async def test_company_sign_in_refuses_what_does_not_hold_up(
    db: Database, live: str, provider: str
) -> None:
    issuer, base_url = provider, live
    await world(issuer)
    sid = await add_user("sid@southwind.example", org="SUP2", role="supplier")
    # An identity at Northwind's provider recorded for a Southwind user: Northwind's
    # provider does not vouch for Southwind's people.
    await t.ExternalIdentity.insert(
        t.ExternalIdentity(issuer=issuer, subject="sid-at-northwind", user_id=sid)
    ).run()
    await add_org("SUP3", "supplier")
    await t.IdentityProvider.insert(
        t.IdentityProvider(
            org="SUP3", name="Plain", issuer="http://login.sup3.example", client_id="x"
        )
    ).run()

    async with secure_cookie_client(base_url, headers=ENGLISH) as browser:
        # A tampered state: refused, and the untampered answer no longer works either.
        back = await at_provider(browser, await browser.get("/sign-in/external/SUP1"), ANN_SUBJECT)
        tampered = await browser.get(with_state(back, "forged-state"))
        assert tampered.status_code == 400
        assert "answer was altered" in tampered.text
        assert (await browser.get(back)).status_code == 400

        # An answer carried into another browser (no flow cookie there).
        back = await at_provider(browser, await browser.get("/sign-in/external/SUP1"), ANN_SUBJECT)
        async with secure_cookie_client(base_url, headers=ENGLISH) as elsewhere:
            assert (await elsewhere.get(back)).status_code == 400

        # Declined at the provider.
        start = await browser.get("/sign-in/external/SUP1")
        declined = await browser.post(start.headers["location"], data={"action": "deny"})
        cancelled = await browser.get(declined.headers["location"])
        assert cancelled.status_code == 400
        assert "cancelled" in cancelled.text

        # A user of another organisation.
        back = await at_provider(
            browser, await browser.get("/sign-in/external/SUP1"), "sid-at-northwind"
        )
        other_org = await browser.get(back)
        assert other_org.status_code == 403

        # No provider, or one reached over plain http beyond this machine.
        assert (await browser.get("/sign-in/external/SUP2")).status_code == 404
        plain = await browser.get("/sign-in/external/SUP3")
        assert plain.status_code == 502

        assert (await browser.get("/", follow_redirects=True)).url.path == "/sign-in"

    assert await t.WebSession.count().run() == 0
    assert not await t.LoginFlow.exists().where(t.LoginFlow.provider == "SUP3").run()
    reasons = str(await failures())
    for reason in ("state", "cancelled", "not_allowed", "unreachable"):
        assert reason in reasons


# --- The ID token's checks, one by one (tokens signed here, as a provider would) ---------------

NOW = int(time.time())
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
STRANGER = RSAKey.generate_key(2048, parameters={"kid": "k1"})
JWKS = KeySet([KEY]).as_dict(private=False)
NORTHWIND = Provider(
    org="SUP1",
    name="Northwind Login",
    issuer="https://login.northwind.example",
    client_id=CLIENT_ID,
    client_secret="",
    scope="openid",
)
CLAIMS = {
    "iss": NORTHWIND.issuer,
    "aud": CLIENT_ID,
    "sub": ANN_SUBJECT,
    "iat": NOW,
    "exp": NOW + 300,
    "nonce": "the-nonce",
}


def signed(claims: dict[str, object], key: RSAKey = KEY, kid: str = "k1") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


def test_a_good_id_token_names_the_issuer_and_subject() -> None:
    identity = verified_identity(signed(CLAIMS), JWKS, ["RS256"], NORTHWIND, "the-nonce")
    assert (identity.issuer, identity.subject) == (NORTHWIND.issuer, ANN_SUBJECT)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(signed({**CLAIMS, "aud": "someone-else"}), id="another audience"),
        pytest.param(signed({**CLAIMS, "iss": "https://evil.example"}), id="another issuer"),
        pytest.param(signed({**CLAIMS, "nonce": "replayed"}), id="another nonce"),
        pytest.param(
            signed({key: value for key, value in CLAIMS.items() if key != "nonce"}),
            id="no nonce",
        ),
        pytest.param(signed({**CLAIMS, "iat": NOW - 7200, "exp": NOW - 3600}), id="expired"),
        pytest.param(signed(CLAIMS, STRANGER), id="signed by another key"),
        pytest.param(signed(CLAIMS, kid="unknown"), id="unknown key id"),
        pytest.param(
            jwt.encode({"alg": "HS256"}, CLAIMS, OctKey.import_key("x" * 32)), id="alg HS256"
        ),
        pytest.param(unsigned(CLAIMS), id="alg none"),
        pytest.param(
            signed({**CLAIMS, "aud": [CLIENT_ID, "another-client"]}),
            id="several audiences without azp",
        ),
    ],
)
def test_an_id_token_that_does_not_hold_up_is_refused(token: str) -> None:
    with pytest.raises((JoseError, ProviderProblem)):
        verified_identity(token, JWKS, ["RS256", "HS256", "none"], NORTHWIND, "the-nonce")
