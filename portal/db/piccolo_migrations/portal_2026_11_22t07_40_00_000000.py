"""At most one open alert per rule and subject: a partial unique index, which SQLite and
PostgreSQL both have (see the unique keys migration for why an index and not a constraint)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T07:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique key: one open alert per (rule, subject)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_unique_key() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX alert_open_rule_subject ON alert (rule, subject) "
            "WHERE resolved_at IS NULL"
        )

    async def drop_unique_key() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX alert_open_rule_subject")

    manager.add_raw(create_unique_key)
    manager.add_raw_backwards(drop_unique_key)
    return manager
