"""Shared fixtures. The environment is set before anything from `portal` is imported.

Databases are real: one SQLite file and one PostgreSQL database per test process (xdist
worker), each migrated once with `portal migrate` and emptied before every test that uses it.
PostgreSQL is the local server (TEST_POSTGRES_URL, default 127.0.0.1:5432, trust auth);
if it cannot be reached the tests that need it fail with a message saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
for _key in [key for key in os.environ if key.startswith("PORTAL_")]:
    del os.environ[_key]

from portal.db import tables  # noqa: E402  (the environment above must be set first)
from portal.db.database import Database  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = ["sqlite", "postgresql"]


def run_portal(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `portal` command line in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def _admin(sql: str) -> None:
    try:
        connection = await asyncpg.connect(ADMIN_URL)
    except OSError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_URL} ({error}); start it "
            "(see README, Development) or set TEST_POSTGRES_URL.",
            pytrace=False,
        )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _postgres_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per engine for this test process, created on first use."""
    import asyncio

    urls: dict[str, str] = {}
    created: list[str] = []

    def get(engine: str) -> str:
        if engine in urls:
            return urls[engine]
        if engine == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'portal.sqlite3'}"
        else:
            name = f"portal_test_{uuid.uuid4().hex[:12]}"
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            created.append(name)
            url = _postgres_url(name)
        result = run_portal("migrate", env={"PORTAL_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        urls[engine] = url
        return url

    class Urls(dict[str, str]):
        def __missing__(self, engine: str) -> str:
            return get(engine)

    yield Urls()
    for name in created:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(engine: str, migrated_urls: dict[str, str]) -> str:
    return migrated_urls[engine]


async def empty(db: Database) -> None:
    """Remove every row (children first) so each test starts from a migrated, empty database."""
    names = [table._meta.tablename for table in reversed(tables.TABLES)]
    if db.is_sqlite:
        # Ids restart at 1 by themselves: the tables have no AUTOINCREMENT, so SQLite has no
        # sqlite_sequence table to reset.
        for name in names:
            await db.engine.run_ddl(f"DELETE FROM {name}")
    else:
        await db.engine.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.start()
    await empty(database)
    yield database
    await database.close()
