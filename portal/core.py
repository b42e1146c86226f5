"""The one InitPlugin: routers, plugins, dependency providers and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import portal
from portal.db.database import Database
from portal.settings import Settings
from portal.web import health, orders
from portal.web.deps import dependencies
from portal.web.errors import exception_handlers
from portal.web.rendering import environment

STATIC = Path(portal.__file__).parent.parent / "static"


def database_lifespan(
    settings: Settings,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """One database (engine and pool) for the process, open while the app runs."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        await db.start()
        app.state.db = db
        try:
            yield
        finally:
            await db.close()

    return lifespan


class PortalCore(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        env = environment()
        app_config = HTMXPlugin().on_app_init(app_config)
        app_config.template_config = TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(env)
        )
        app_config.route_handlers.extend(
            [
                *health.ROUTES,
                *orders.ROUTES,
                create_static_files_router(path="/static", directories=[STATIC]),
            ]
        )
        app_config.dependencies.update(dependencies(self.settings, env))
        app_config.exception_handlers.update(exception_handlers(self.settings, env))
        app_config.lifespan.append(database_lifespan(self.settings))
        return app_config
