"""The database engine chosen by `PORTAL_DATABASE_URL`, and how a write transaction begins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from portal.db.tables import TABLES


class DatabaseURLError(ValueError):
    pass


def make_engine(url: str) -> Engine[Any]:
    """`sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or `postgresql://...`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url.removeprefix("sqlite:///")
        if not path or path == url:
            raise DatabaseURLError(
                f"{url!r} names no file; write sqlite:///portal.db (relative) "
                "or sqlite:////var/lib/portal/portal.db (absolute)."
            )
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # `timeout` is SQLite's busy wait, for the readers that meet a checkpoint.
        return SQLiteEngine(path=str(Path(path).expanduser()), timeout=30)
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(url)
        if not parts.path.strip("/"):
            raise DatabaseURLError(
                f"{without_password(url)!r} names no database; end it with /DATABASE_NAME."
            )
        try:
            port = parts.port
        except ValueError:  # not a number, or beyond 65535
            port = 0
        if port == 0:
            # Left to the driver, a bad port ends in a traceback, not a message.
            raise DatabaseURLError(
                f"{without_password(url)!r} has no valid port; a port is a number "
                "from 1 to 65535, e.g. postgresql://portal@127.0.0.1:5432/portal."
            )
        return PostgresEngine(config={"dsn": url})
    raise DatabaseURLError(
        f"Unsupported database URL {without_password(url)!r}: it must start with sqlite:/// "
        "or postgresql://."
    )


def without_password(url: str) -> str:
    """The URL as it may appear in a message: its password replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    if ":" not in netloc[0]:
        return url
    user = netloc[0].partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{netloc[2]}").geturl()


class Database:
    """One engine for the process, bound to every table.

    SQLite allows one writer at a time: writers queue on an in-process lock and then take the
    file's write lock at once (`BEGIN IMMEDIATE`), so they never meet "database is locked".
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = isinstance(self.engine, SQLiteEngine)
        self._postgres = self.engine if isinstance(self.engine, PostgresEngine) else None
        self._write_lock = asyncio.Lock()
        for table in TABLES:
            table._meta.db = self.engine

    async def start(self) -> None:
        if self._postgres is None:
            await self.engine.run_ddl("PRAGMA journal_mode=WAL")
        else:
            await self._postgres.start_connection_pool(min_size=1, max_size=10)

    async def close(self) -> None:
        if self._postgres is not None:
            await self._postgres.close_connection_pool()

    async def ping(self) -> None:
        await self.engine.run_ddl("SELECT 1")

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[Any]:
        if self.is_sqlite:
            async with (
                self._write_lock,
                self.engine.transaction(transaction_type=TransactionType.immediate) as transaction,
            ):
                yield transaction
        else:
            async with self.engine.transaction() as transaction:
                yield transaction
