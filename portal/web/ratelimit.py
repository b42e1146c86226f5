"""Rate limits on the doors people try to force: sign-in, the token endpoint, password reset
and the guest order lookup. Counted by the `limits` library, in memory for one process or in
Redis (`PORTAL_RATE_LIMIT_STORAGE=redis://...`) when several processes must share the counts.

Each bucket is counted twice: per key (the e-mail, client or order number being tried) and
address, so one person cannot lock another out from elsewhere, and per address alone, so one
address cannot try many keys.
"""

from __future__ import annotations

import math
import time
from typing import Any, cast

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException

from portal.auth import audit
from portal.auth.guards import client_address

LIMITS: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
    # bucket: (per key and address, per address)
    "sign_in": (parse("5/minute"), parse("30/minute")),
    "token": (parse("60/minute"), parse("300/minute")),
    "password_reset": (parse("3/15minutes"), parse("10/hour")),
    "guest_lookup": (parse("5/minute"), parse("20/minute")),
}


class Limiter:
    def __init__(self, storage_uri: str) -> None:
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        # An `async+` URI always gives an asynchronous storage; the library types both kinds.
        self.strategy = MovingWindowRateLimiter(cast(Storage, storage_from_string(uri)))

    async def retry_after(self, bucket: str, key: str, address: str) -> int | None:
        """Counts one attempt; the seconds to wait when it is one too many, else None."""
        per_key, per_address = LIMITS[bucket]
        for item, identifiers in (
            (per_key, (bucket, "key", key.lower(), address)),
            (per_address, (bucket, "address", address)),
        ):
            if not await self.strategy.hit(item, *identifiers):
                stats = await self.strategy.get_window_stats(item, *identifiers)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None


def limiter_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Limiter:
    state = connection.app.state
    if getattr(state, "limiter", None) is None:
        state.limiter = Limiter(state.settings.rate_limit_storage)
    limiter: Limiter = state.limiter
    return limiter


async def enforce(connection: ASGIConnection[Any, Any, Any, Any], bucket: str, key: str) -> None:
    """Count one attempt at `bucket` for `key` from the caller's address; 429 with Retry-After
    when there were too many."""
    address = client_address(connection)
    wait = await limiter_of(connection).retry_after(bucket, key, address)
    if wait is not None:
        await audit.record(
            "rate_limited",
            "denied",
            ip=address,
            path=connection.url.path,
            detail={"bucket": bucket},
        )
        raise TooManyRequestsException(
            detail="Too many attempts. Please wait before trying again.",
            headers={"Retry-After": str(wait)},
        )
