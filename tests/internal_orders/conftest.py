"""`world`: the real application over a database (SQLite, then PostgreSQL) holding the
organisations, people and OAuth clients of `internal_orders_support`, called in the test's own
event loop (httpx's ASGI transport), so the tests and the application share one engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from internal_orders_support import World, seed, settings
from litestar import Litestar

from portal.app import create_app
from portal.db.database import Database


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left by one task of its own."""
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
async def world(db: Database, database_url: str) -> AsyncIterator[World]:
    await seed()
    app = create_app(settings(database_url))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("10.2.0.1", 50000))
        yield World(transport, app.state.db)
