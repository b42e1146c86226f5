"""`client`: the real application over a database (SQLite, then PostgreSQL) holding the orders
of `http_story`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from http_story import portal, tell_the_story
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.db.database import Database


@pytest.fixture
async def client(db: Database, database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    await tell_the_story(db)
    async with portal(database_url) as client:
        yield client
