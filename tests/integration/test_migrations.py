"""The committed migrations: `portal migrate` builds the schema on an empty SQLite file and an
empty PostgreSQL database and is a no-op the second time; SQLite runs in WAL mode; and the
migrations describe exactly the tables in `tables.py` (Piccolo's auto-migration finds nothing)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from integration_support import ADMIN_URL, run_cli
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.columns import Varchar
from piccolo.conf.apps import AppConfig
from piccolo.table import Table

from portal.db import piccolo_migrations
from portal.db.database import Database
from portal.db.migrations import known_migrations, pending_migrations
from portal.db.piccolo_app import APP_CONFIG
from portal.db.tables import TABLES

TABLE_NAMES = sorted(table._meta.tablename for table in TABLES)
UNIQUE_KEYS = ["event_stream_seq", "po_line_po_line_no", "so_line_so_line_no"]


def assert_migrated_once_then_nothing(url: str) -> None:
    first = run_cli("migrate", database_url=url)
    assert first.returncode == 0, first.stderr
    assert f"({len(known_migrations())} migration(s) applied now)" in first.stdout
    second = run_cli("migrate", database_url=url)
    assert second.returncode == 0, second.stderr
    assert "(0 migration(s) applied now)" in second.stdout


async def pending(url: str) -> list[str]:
    db = Database(url)
    await db.start()
    try:
        return await pending_migrations(db)
    finally:
        await db.close()


def test_migrate_an_empty_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    url = f"sqlite:///{path}"
    assert asyncio.run(pending(url)) == known_migrations()

    assert_migrated_once_then_nothing(url)

    connection = sqlite3.connect(path)
    try:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        indexes = {
            name: sql
            for name, sql in connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            )
        }
        applied = connection.execute("SELECT COUNT(*) FROM migration").fetchone()[0]
    finally:
        connection.close()
    assert set(TABLE_NAMES) <= tables
    for name in UNIQUE_KEYS:
        assert indexes[name].startswith("CREATE UNIQUE INDEX")
    assert applied == len(known_migrations())
    assert asyncio.run(pending(url)) == []


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    name = f"portal_migrate_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_migrate_an_empty_postgresql_database(fresh_postgres_url: str) -> None:
    url = fresh_postgres_url
    assert asyncio.run(pending(url)) == known_migrations()

    assert_migrated_once_then_nothing(url)

    async def schema() -> tuple[set[str], dict[str, str], int]:
        connection = await asyncpg.connect(url)
        try:
            tables = {
                row["tablename"]
                for row in await connection.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            indexes = {
                row["indexname"]: row["indexdef"]
                for row in await connection.fetch("SELECT indexname, indexdef FROM pg_indexes")
            }
            applied = await connection.fetchval("SELECT COUNT(*) FROM migration")
        finally:
            await connection.close()
        return tables, indexes, applied

    tables, indexes, applied = asyncio.run(schema())
    assert set(TABLE_NAMES) <= tables
    for name in UNIQUE_KEYS:
        assert indexes[name].startswith("CREATE UNIQUE INDEX")
    assert applied == len(known_migrations())
    assert asyncio.run(pending(url)) == []


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite3"

    async def start() -> str:
        db = Database(f"sqlite:///{path}")
        await db.start()
        try:
            rows = await db.engine.run_ddl("PRAGMA journal_mode")
        finally:
            await db.close()
        return str(rows[0]["journal_mode"])

    assert asyncio.run(start()) == "wal"
    # WAL is a property of the file, so every later connection (and process) uses it too.
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


async def alter_statements(app_config: AppConfig) -> list[str]:
    found = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=app_config)
    return [statement for group in found for statement in group.statements]


def test_the_migrations_match_the_tables() -> None:
    """What `piccolo migrations new portal --auto` would write: nothing."""
    folder = Path(piccolo_migrations.__path__[0])
    files = sorted(os.listdir(folder))

    assert asyncio.run(alter_statements(APP_CONFIG)) == []

    # The same comparison does see a difference when there is one.
    class Unmigrated(Table):
        note = Varchar(length=10)

    changed = AppConfig(
        app_name=APP_CONFIG.app_name,
        migrations_folder_path=APP_CONFIG.migrations_folder_path,
        table_classes=[*TABLES, Unmigrated],
    )
    statements = asyncio.run(alter_statements(changed))
    assert any("Unmigrated" in statement for statement in statements), statements
    assert sorted(os.listdir(folder)) == files
