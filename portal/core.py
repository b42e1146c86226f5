"""The one InitPlugin: routers, plugins, dependency providers and error handlers."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from portal.settings import Settings


class PortalCore(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        return app_config
