"""Running the committed Piccolo migrations, and telling whether any are pending."""

from __future__ import annotations

import importlib
import pkgutil

from piccolo.apps.migrations.commands.forwards import run_forwards

from portal.db import piccolo_migrations
from portal.db.database import Database

APP_NAME = "portal"


class MigrationFailed(RuntimeError):
    pass


def known_migrations() -> list[str]:
    """The IDs of the migrations committed with this version of the portal, in order."""
    ids = []
    for module in pkgutil.iter_modules(piccolo_migrations.__path__):
        loaded = importlib.import_module(f"{piccolo_migrations.__name__}.{module.name}")
        ids.append(loaded.ID)
    return sorted(ids)


async def applied_migrations(db: Database) -> set[str]:
    """The migration IDs recorded in the database (none if it was never migrated)."""
    try:
        rows = await db.engine.run_ddl(f"SELECT name FROM migration WHERE app_name = '{APP_NAME}'")
    except Exception as error:
        # A database that was never migrated has no migration table; anything else is real.
        if "migration" in str(error) and ("exist" in str(error) or "no such table" in str(error)):
            return set()
        raise
    return {row["name"] for row in rows}


async def pending_migrations(db: Database) -> list[str]:
    applied = await applied_migrations(db)
    return [migration for migration in known_migrations() if migration not in applied]


async def migrate(database_url: str) -> int:
    """Apply every pending migration through Piccolo (engine from PICCOLO_CONF, which reads the
    same PORTAL_DATABASE_URL); returns how many were applied."""
    db = Database(database_url)
    await db.start()
    try:
        before = len(await pending_migrations(db))
        result = await run_forwards(app_name=APP_NAME)
        if not result.success:
            raise MigrationFailed(result.message or "a migration failed")
        after = len(await pending_migrations(db))
    finally:
        await db.close()
    return before - after
