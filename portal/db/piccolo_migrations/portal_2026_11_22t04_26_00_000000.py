"""One preference per user and topic, as a plain unique index (see the unique keys
migration for why an index and not a constraint)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T04:26:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique key: notification_preference (user_id, topic)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def create_unique_key() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX notification_preference_user_topic "
            "ON notification_preference (user_id, topic)"
        )

    async def drop_unique_key() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX notification_preference_user_topic")

    manager.add_raw(create_unique_key)
    manager.add_raw_backwards(drop_unique_key)
    return manager
