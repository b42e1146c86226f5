"""The application served in the test's own event loop (httpx's ASGI transport), so that the
test, the app and a worker share one database engine: on PostgreSQL a pool belongs to the
loop that opened it (litestar's test client runs the app in a loop of its own)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from http_story import BASE_URL, settings, sign_in_as
from litestar import Litestar

from portal.app import create_app
from portal.settings import Settings


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


@asynccontextmanager
async def served(
    chosen: Settings, base_url: str = BASE_URL
) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    app = create_app(chosen)
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.0.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield app, http


@asynccontextmanager
async def browser(
    database_url: str, email: str, *, default_locale: str = "zh_CN"
) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    """A signed-in browser on the app."""
    async with served(settings(database_url, default_locale=default_locale)) as (app, http):
        await sign_in_as(http, email)  # type: ignore[arg-type]
        yield app, http
