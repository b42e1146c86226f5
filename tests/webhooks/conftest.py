"""`world`: the real application over a database (SQLite, then PostgreSQL) holding the
organisations, people and OAuth clients of `webhook_support`, called over HTTP in the test's
own event loop (httpx's ASGI transport), so the tests and the app share one database engine.
The dispatcher is not running inside it: tests drive it step by step (`world.dispatch()`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from litestar import Litestar
from webhook_support import BASE_URL, World, seed, settings

from portal.app import create_app
from portal.db.database import Database


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left by one task of its own (a fixture's setup and
    teardown run in different tasks, and the lifespan's task groups must not)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiting.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
def allow_private() -> bool:
    """Whether the app lets webhooks call private addresses (the receiver is on 127.0.0.1)."""
    return True


@pytest.fixture
async def world(db: Database, database_url: str, allow_private: bool) -> AsyncIterator[World]:
    ids = await seed()
    chosen = settings(database_url, webhook_allow_private=allow_private)
    app = create_app(chosen)
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("10.2.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield World(app, http, app.state.db, chosen, ids)
