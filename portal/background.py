"""Work a worker does besides delivering notifications: alert scans and order imports.

Each task runs until `stop` is set, next to the dispatcher, in `portal worker` and (with
`PORTAL_DISPATCHER`, the embedded default) inside `portal serve`. Every task must be safe with
several workers running at once."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from portal.db.database import Database
from portal.notify.live import Publish
from portal.settings import Settings

Task = Callable[[anyio.Event], Coroutine[Any, Any, None]]


def background_tasks(settings: Settings, db: Database, publish: Publish | None) -> list[Task]:
    from portal.services.alerts import AlertScanner  # the scanner imports the unit of work
    from portal.services.order_import import runner as order_imports

    return [AlertScanner(settings, db).run_forever, order_imports(db)]
