"""Client credentials, introspection, revocation, discovery, JWKS and key rotation, and the
access-token checks, over real HTTP (and `bearer_principal` directly: no /api route exists
yet to carry a bearer token)."""

from __future__ import annotations

import time

import httpx
import pytest
from auth_support import add_client, add_org, jwt_part
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from portal.auth import keys, tokens
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.actors import ActorKind, Via
from portal.settings import Settings

SECRET = "machine-secret-0123456789"


async def seed_machine() -> None:
    await add_org("NW", "supplier")
    await add_client("nw-erp", org="NW", role="supplier", scope="po:read po:ship", secret=SECRET)
    await add_client(
        "nw-web",
        org="NW",
        role="supplier",
        scope="po:read",
        grant_types="authorization_code",
        secret=SECRET,
        redirect_uris=["https://nw.example/cb"],
    )


async def client_token(api: httpx.AsyncClient, scope: str | None = None) -> httpx.Response:
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return await api.post("/oauth/token", data=data, auth=("nw-erp", SECRET))


async def test_client_credentials_introspection_and_revocation(live: str) -> None:
    await seed_machine()
    async with httpx.AsyncClient(base_url=live) as api:
        whole = await client_token(api)
        assert whole.status_code == 200, whole.text
        assert whole.json()["scope"] == "po:read po:ship" and "refresh_token" not in whole.json()
        issued = await client_token(api, "po:read")
        access = issued.json()["access_token"]
        claims = jwt_part(access, 1)
        assert claims["sub"] == "nw-erp" and claims["client_id"] == "nw-erp"
        assert claims["scope"] == "po:read"
        seen = await api.post("/oauth/introspect", data={"token": access}, auth=("nw-erp", SECRET))
        assert seen.json()["active"] is True and seen.json()["scope"] == "po:read"
        # A client authenticates only by its registered method (here HTTP Basic).
        posted = await api.post(
            "/oauth/introspect",
            data={"token": access, "client_id": "nw-erp", "client_secret": SECRET},
        )
        assert posted.status_code == 401 and posted.json()["error"] == "invalid_client"
        anonymous = await api.post("/oauth/introspect", data={"token": access})
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
        unknown = await api.post(
            "/oauth/introspect", data={"token": "not-a-token"}, auth=("nw-erp", SECRET)
        )
        assert unknown.json() == {"active": False}

        revoked = await api.post("/oauth/revoke", data={"token": access}, auth=("nw-erp", SECRET))
        assert revoked.status_code == 200
        gone = await api.post("/oauth/introspect", data={"token": access}, auth=("nw-erp", SECRET))
        assert gone.json() == {"active": False}
        still = await api.post(
            "/oauth/introspect",
            data={"token": whole.json()["access_token"]},
            auth=("nw-erp", SECRET),
        )
        assert still.json()["active"] is True

        lacking = await client_token(api, "po:read admin")
        assert lacking.status_code == 400 and lacking.json()["error"] == "invalid_scope"
        beyond_role = await client_token(api, "order:read")
        assert beyond_role.json()["error"] == "invalid_scope"
        wrong_grant = await api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("nw-web", SECRET),
        )
        assert wrong_grant.status_code == 400
        assert wrong_grant.json()["error"] == "unauthorized_client"
        bad_secret = await api.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("nw-erp", "x")
        )
        assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    logged = [row["kind"] for row in await t.AccessLog.select(t.AccessLog.kind)]
    assert "token_issued" in logged and "token_revoked" in logged


async def test_discovery_jwks_and_key_rotation(live: str, db: Database) -> None:
    await seed_machine()
    async with httpx.AsyncClient(base_url=live) as api:
        for path in (
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ):
            meta = (await api.get(path)).json()
            assert meta["issuer"] == live
            assert meta["token_endpoint"] == live + "/oauth/token"
            assert meta["jwks_uri"] == live + "/oauth/jwks"
            assert meta["code_challenge_methods_supported"] == ["S256"]
            assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
        old = (await client_token(api)).json()["access_token"]
        old_kid = jwt_part(old, 0)["kid"]

        new_kid = await keys.rotate_signing_key(db)

        published = [key["kid"] for key in (await api.get("/oauth/jwks")).json()["keys"]]
        assert published == [new_kid, old_kid]
        new = (await client_token(api)).json()["access_token"]
        assert jwt_part(new, 0)["kid"] == new_kid
        for token in (old, new):  # tokens of the retired key stay good until they expire
            seen = await api.post(
                "/oauth/introspect", data={"token": token}, auth=("nw-erp", SECRET)
            )
            assert seen.json()["active"] is True
        jwk = (await api.get("/oauth/jwks")).json()["keys"][0]
        assert "d" not in jwk and jwk["kty"] == "EC"


def forged(claims: dict[str, object], header: dict[str, object], key: object) -> str:
    return jwt.encode(header, claims, key)  # type: ignore[arg-type]


async def test_bad_access_tokens_are_refused(live: str, db: Database) -> None:
    await seed_machine()
    settings = Settings(base_url=live, database_url=db.url, secret_key="x" * 40)
    async with httpx.AsyncClient(base_url=live) as api:
        good = (await client_token(api, "po:read")).json()["access_token"]
        principal = await tokens.bearer_principal(settings, good)
        assert principal.actor.kind == ActorKind.CLIENT and principal.actor.via == Via.API
        assert principal.org == "NW" and principal.scopes == frozenset({"po:read"})

        header, claims = jwt_part(good, 0), jwt_part(good, 1)
        row = await t.SigningKey.select().where(t.SigningKey.kid == header["kid"]).first()
        real = ECKey.import_key(row["private_pem"])
        stranger = ECKey.generate_key("P-256")
        now = int(time.time())
        signed = {
            "wrong aud": forged({**claims, "aud": live}, header, real),
            "wrong iss": forged({**claims, "iss": "https://elsewhere"}, header, real),
            "wrong typ": forged(claims, {**header, "typ": "JWT"}, real),
            "expired": forged({**claims, "iat": now - 900, "exp": now - 300}, header, real),
            "unknown kid": forged(claims, {**header, "kid": "nope"}, stranger),
            "foreign key": forged(claims, header, stranger),
            "HS256": forged(claims, {**header, "alg": "HS256"}, OctKey.import_key(b"k" * 32)),
        }
        head = good.split(".")[1]
        import base64

        none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=")
        signed["alg none"] = f"{none_header.decode()}.{head}."
        for name, token in signed.items():
            with pytest.raises(tokens.InvalidToken):
                await tokens.bearer_principal(settings, token)
            answer = await api.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, name
            assert "invalid_token" in answer.headers["www-authenticate"], name
        # A good token of a client (no user, no openid) cannot read userinfo.
        assert (
            await api.get("/oauth/userinfo", headers={"Authorization": f"Bearer {good}"})
        ).status_code == 403
        await (
            t.OAuthClient.update({t.OAuthClient.active: False})
            .where(t.OAuthClient.client_id == "nw-erp")
            .run()
        )
        with pytest.raises(tokens.InvalidToken):
            await tokens.bearer_principal(settings, good)
