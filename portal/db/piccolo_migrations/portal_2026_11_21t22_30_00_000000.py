"""Unique keys over two columns, as plain unique indexes.

Piccolo adds composite constraints with ALTER TABLE ... ADD CONSTRAINT, which SQLite lacks;
CREATE UNIQUE INDEX reads the same on SQLite and PostgreSQL, so this migration is one for both.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-21T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys: event (stream, seq), po_line (po, line_no), so_line (so, line_no)"

UNIQUE_KEYS = [
    ("event_stream_seq", "event", "stream, seq"),
    ("po_line_po_line_no", "po_line", "po, line_no"),
    ("so_line_so_line_no", "so_line", "so, line_no"),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_unique_keys() -> None:
        engine = engine_finder()
        assert engine is not None
        for name, table, columns in UNIQUE_KEYS:
            await engine.run_ddl(f"CREATE UNIQUE INDEX {name} ON {table} ({columns})")

    async def drop_unique_keys() -> None:
        engine = engine_finder()
        assert engine is not None
        for name, _, _ in UNIQUE_KEYS:
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_unique_keys)
    manager.add_raw_backwards(drop_unique_keys)
    return manager
