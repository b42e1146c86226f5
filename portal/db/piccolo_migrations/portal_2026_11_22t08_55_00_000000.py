"""An order's events of one kind (its `po.created`, its `po.issued`) found by one index probe:
the alert scanner joins every open order to them, and with the kind index alone PostgreSQL
scanned all events of that kind per order whenever its statistics were stale (a fresh bulk
import), which grew with the square of the orders (bench/bench_alerts.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T08:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index: event (stream, kind)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("CREATE INDEX event_stream_kind ON event (stream, kind)")

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX event_stream_kind")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
