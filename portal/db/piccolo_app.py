"""The single Piccolo app: orders tie suppliers and customers together, so one app holds all."""

import os

from piccolo.conf.apps import AppConfig

from portal.db.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
