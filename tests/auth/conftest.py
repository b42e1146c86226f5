"""`live`: the real portal (`portal serve` in a child process) on the module's database;
yields its base URL.

Starting the portal takes seconds, so one process serves every test of a module on one
engine: `engine` is module-scoped here (SQLite, then PostgreSQL), and each test still starts
from an emptied database through the `db` fixture (the portal keeps no rows in memory).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from auth_support import live_portal

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def live_server(engine: str, migrated_urls: dict[str, str]) -> Iterator[str]:
    with live_portal(migrated_urls[engine]) as base_url:
        yield base_url


@pytest.fixture
def live(live_server: str, db: object) -> str:
    """The running portal, its database emptied for this test (and bound in this process
    for setting up rows)."""
    return live_server
