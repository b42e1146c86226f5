"""The application factory."""

from litestar import Litestar

from portal.core import PortalCore
from portal.settings import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    return Litestar(plugins=[PortalCore(settings or Settings.from_env())])
