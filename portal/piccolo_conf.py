"""Piccolo's configuration (PICCOLO_CONF=portal.piccolo_conf): the engine from the settings."""

from piccolo.conf.apps import AppRegistry

from portal.db.database import make_engine
from portal.settings import Settings

DB = make_engine(Settings.from_env().database_url)

APP_REGISTRY = AppRegistry(apps=["portal.db.piccolo_app"])
