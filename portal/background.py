"""Work a worker does besides delivering notifications: alert scans and order imports.

Each task runs until `stop` is set, next to the dispatcher, in `portal worker` and (with
`PORTAL_DISPATCHER`, the embedded default) inside `portal serve`. Every task must be safe with
several workers running at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from portal.db.database import Database
from portal.notify.live import Publish
from portal.settings import Settings

Task = Callable[[anyio.Event], Awaitable[None]]


def background_tasks(settings: Settings, db: Database, publish: Publish | None) -> list[Task]:
    return []
