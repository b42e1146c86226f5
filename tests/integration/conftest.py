"""The `world` fixture: a migrated, emptied database (SQLite, then PostgreSQL) with the
organisations of `integration_support` in it."""

from __future__ import annotations

import pytest
from integration_support import ORGANISATIONS, World

from portal.db import tables as t
from portal.db.database import Database


@pytest.fixture
async def world(db: Database) -> World:
    await t.Organisation.insert(
        *[t.Organisation(code=code, name=name, kind=kind) for code, name, kind in ORGANISATIONS]
    ).run()
    return World(db)
