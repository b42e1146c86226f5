"""`world`: the real application over a database (SQLite, then PostgreSQL) holding the
organisations and OAuth clients of `api_support`, called over HTTP in the test's own event loop
(httpx's ASGI transport), so that the tests and the application share one database engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from api_support import BASE_URL, World, seed, settings
from litestar import Litestar

from portal.app import create_app
from portal.db.database import Database


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left by one task of its own: a fixture's setup and
    teardown run in different tasks, and the lifespan's task groups must not."""
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
        # The running app bound the tables to its own engine: the commands that set the scene
        # go through it too.
        transport = httpx.ASGITransport(app=app, client=("10.1.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield World(http, app.state.db)
