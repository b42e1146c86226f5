"""The access audit: sign-ins, failures, tokens issued and revoked, requests denied.

Each entry is one structured log line (logger `portal.access`, JSON, never a secret) and one
`access_log` row that admins read at /admin/access-log. These are records of access, not
changes to orders, so they are not on any order's timeline.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from portal.db import tables as t

logger = logging.getLogger("portal.access")

SECRET_WORDS = ("password", "secret", "token", "code", "verifier", "cookie", "authorization")


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    """Drop anything that looks like a credential, whoever passed it in."""
    return {
        key: value
        for key, value in detail.items()
        if not any(word in key.lower() for word in SECRET_WORDS)
    }


async def record(
    kind: str,
    outcome: str,
    *,
    user_id: int | None = None,
    email: str = "",
    client_id: str = "",
    org: str = "",
    ip: str = "",
    path: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """`kind` names what happened (sign_in, sign_in_failed, token_issued, token_revoked,
    refresh_reused, request_denied, ...); `outcome` is ok, failed or denied."""
    clean = _clean(detail or {})
    entry = {
        "event": kind,
        "outcome": outcome,
        "user_id": user_id,
        "email": email,
        "client_id": client_id,
        "org": org,
        "ip": ip,
        "path": path,
        **({"detail": clean} if clean else {}),
    }
    logger.info(msgspec.json.encode(entry).decode())
    await t.AccessLog.insert(
        t.AccessLog(
            kind=kind,
            outcome=outcome,
            user_id=user_id,
            email=email[:254],
            client_id=client_id[:64],
            org=org[:32],
            ip=ip[:64],
            path=path[:300],
            detail=msgspec.json.encode(clean).decode(),
        )
    ).run()
