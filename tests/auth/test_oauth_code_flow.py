"""Authorization code + PKCE over real HTTP, played by a third-party client (Acme's ERP) and a
browser (Acme's user Sue): consent, single-use codes, rotating refresh tokens and replays."""

from __future__ import annotations

import httpx
from auth_support import (
    DEFAULT_PASSWORD,
    ERP,
    ERP_CALLBACK,
    authorize_as_sue,
    authorize_url,
    exchange,
    introspect,
    jwt_part,
    pkce_pair,
    query_of,
    refresh,
    secure_cookie_client,
    seed_supplier,
    sign_in,
)

from portal.db import tables as t


async def kinds() -> list[str]:
    return [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind)]


async def test_code_flow_with_pkce_then_refresh_rotation_and_replay(live: str) -> None:
    sue = await seed_supplier("sue1@acme.test")
    async with secure_cookie_client(live) as browser, httpx.AsyncClient(base_url=live) as api:
        code, verifier = await authorize_as_sue(browser, email=sue, scope="openid email po:read")
        issued = await exchange(api, code, verifier)
        assert issued.status_code == 200, issued.text
        assert issued.headers["cache-control"] == "no-store"
        tokens = issued.json()
        assert tokens["token_type"] == "Bearer" and tokens["scope"] == "openid email po:read"
        header, claims = jwt_part(tokens["access_token"], 0), jwt_part(tokens["access_token"], 1)
        assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
        jwks = (await api.get("/oauth/jwks")).json()
        assert header["kid"] in [key["kid"] for key in jwks["keys"]]
        user = await t.AppUser.select().where(t.AppUser.email == sue).first()
        assert claims["iss"] == live and claims["aud"] == live + "/api"
        assert claims["sub"] == str(user["id"]) and claims["client_id"] == ERP
        assert claims["scope"] == "openid email po:read"
        assert claims["exp"] - claims["iat"] == 600 and claims["jti"]
        id_claims = jwt_part(tokens["id_token"], 1)
        assert id_claims["aud"] == ERP and id_claims["nonce"] == "n-0S6"
        assert id_claims["email"] == sue and id_claims["sub"] == str(user["id"])

        me = await api.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200 and me.json() == {
            "sub": str(user["id"]),
            "email": sue,
            "email_verified": True,
        }

        rotated = await refresh(api, tokens["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()
        assert second["refresh_token"] != tokens["refresh_token"]
        assert (await introspect(api, second["access_token"]))["active"] is True

        replay = await refresh(api, tokens["refresh_token"])
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        # The replay revoked the whole family, the newest tokens too.
        assert await introspect(api, second["access_token"]) == {"active": False}
        assert await introspect(api, second["refresh_token"]) == {"active": False}
        assert (await refresh(api, second["refresh_token"])).json()["error"] == "invalid_grant"
    grant = await t.OAuthGrant.select().where(t.OAuthGrant.client_id == ERP).first()
    assert grant["revoked_at"] is not None and grant["revoke_reason"] == "refresh_reused"
    logged = await kinds()
    for kind in ("sign_in", "token_issued", "token_refreshed", "refresh_reused"):
        assert kind in logged
    details = " ".join(str(row["detail"]) for row in await t.AccessLog.select())
    assert tokens["refresh_token"] not in details and code not in details


async def test_a_reused_code_is_refused_and_revokes_what_it_gave(live: str) -> None:
    sue = await seed_supplier("sue2@acme.test")
    async with secure_cookie_client(live) as browser, httpx.AsyncClient(base_url=live) as api:
        code, verifier = await authorize_as_sue(browser, email=sue)
        first = await exchange(api, code, verifier)
        assert first.status_code == 200
        assert (await introspect(api, first.json()["access_token"]))["active"] is True

        again = await exchange(api, code, verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert await introspect(api, first.json()["access_token"]) == {"active": False}
        assert await introspect(api, first.json()["refresh_token"]) == {"active": False}
    assert "code_reused" in await kinds()


async def test_pkce_is_required_and_only_s256(live: str) -> None:
    sue = await seed_supplier("sue3@acme.test")
    async with secure_cookie_client(live) as browser:
        verifier, challenge = pkce_pair()
        await sign_in(browser, sue, DEFAULT_PASSWORD)
        for url in (
            authorize_url(ERP, ERP_CALLBACK, scope="po:read", challenge=None, method=None),
            authorize_url(ERP, ERP_CALLBACK, scope="po:read", challenge=verifier, method="plain"),
            authorize_url(ERP, ERP_CALLBACK, scope="po:read", challenge=challenge, method=None),
        ):
            refused = await browser.get(url)
            assert refused.status_code == 302
            answer = query_of(refused.headers["location"])
            assert answer["error"] == "invalid_request" and "code" not in answer


async def test_a_verifier_without_a_challenge_and_a_missing_verifier_are_refused(
    live: str,
) -> None:
    sue = await seed_supplier("sue4@acme.test")
    async with secure_cookie_client(live) as browser, httpx.AsyncClient(base_url=live) as api:
        code, verifier = await authorize_as_sue(browser, email=sue)
        # The code was issued with a challenge: leaving the verifier out fails.
        missing = await exchange(api, code, None)
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"

        code, verifier = await authorize_as_sue(browser, email=sue)
        # A code stored without a challenge (as by an older server) cannot be exchanged with
        # a verifier (RFC 9700 4.8).
        await (
            t.OAuthCode.update({t.OAuthCode.code_challenge: ""})
            .where(t.OAuthCode.used_at.is_null())
            .run()
        )
        refused = await exchange(api, code, verifier)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
        wrong = await exchange(api, (await authorize_as_sue(browser, email=sue))[0], pkce_pair()[0])
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


async def test_a_redirect_uri_one_character_off_is_refused_without_redirecting(
    live: str,
) -> None:
    sue = await seed_supplier("sue5@acme.test")
    async with secure_cookie_client(live) as browser:
        await sign_in(browser, sue, DEFAULT_PASSWORD)
        _, challenge = pkce_pair()
        for uri in (ERP_CALLBACK + "x", ERP_CALLBACK[:-1], ERP_CALLBACK.upper()):
            refused = await browser.get(
                authorize_url(ERP, uri, scope="po:read", challenge=challenge)
            )
            assert refused.status_code == 400 and "location" not in refused.headers
            assert "Redirect URI" in refused.text
        unknown = await browser.get(
            authorize_url("nobody", ERP_CALLBACK, scope="po:read", challenge=challenge)
        )
        assert unknown.status_code == 400 and "location" not in unknown.headers


async def test_denying_consent_and_asking_beyond_the_client_are_refused(live: str) -> None:
    sue = await seed_supplier("sue6@acme.test")
    async with secure_cookie_client(live) as browser:
        _, challenge = pkce_pair()
        url = authorize_url(ERP, ERP_CALLBACK, scope="po:read", challenge=challenge)
        consent = await sign_in(browser, sue, DEFAULT_PASSWORD, next=url)
        from auth_support import csrf_token_of

        denied = await browser.post(
            url, data={"decision": "deny", "_csrf_token": csrf_token_of(consent.text)}
        )
        assert query_of(denied.headers["location"])["error"] == "access_denied"
        no_csrf = await browser.post(url, data={"decision": "allow"})
        assert no_csrf.status_code == 403
        too_much = await browser.get(
            authorize_url(ERP, ERP_CALLBACK, scope="po:read admin", challenge=challenge)
        )
        assert query_of(too_much.headers["location"])["error"] == "invalid_scope"
