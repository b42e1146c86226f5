"""The one InitPlugin: routers, plugins, dependency providers and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import portal
from portal.auth import external, invitations, oauth_routes, reset, signin
from portal.auth.guards import authorise, public
from portal.auth.scopes import SCOPES
from portal.customer import api as customer_api
from portal.customer import controllers as customer_pages
from portal.customer import live_routes as customer_live
from portal.db.database import Database
from portal.internal import admin, change_review, outbox_pages, settings_pages
from portal.internal import alerts as alert_pages
from portal.internal import audit as order_audit
from portal.internal import dashboard as dashboard_pages
from portal.internal import imports as order_imports
from portal.internal import orders as staff_orders
from portal.internal import orders_api as staff_orders_api
from portal.internal import receipts as receipt_pages
from portal.internal import scorecards as scorecard_pages
from portal.notify import (
    centre_api,
    centre_pages,
    email_actions,
    live,
    webhook_api,
    webhook_pages,
)
from portal.notify.dispatcher import InProcess
from portal.settings import Settings
from portal.supplier import api as supplier_api
from portal.supplier import controllers as supplier_pages
from portal.supplier import imports as promise_imports
from portal.web import export as list_exports
from portal.web import health, orders, security
from portal.web.deps import dependencies
from portal.web.errors import exception_handlers
from portal.web.rendering import CSRF_COOKIE, CSRF_HEADER, environment

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


def oauth2_scheme(settings: Settings) -> SecurityScheme:
    """How a supplier's or customer's system gets a token, as the OpenAPI document says it."""
    described = {scope: scope for scope in SCOPES}
    token_url = f"{settings.issuer}/oauth/token"
    return SecurityScheme(
        type="oauth2",
        description="Bearer JWT access tokens from the portal's own authorization server.",
        flows=OAuthFlows(
            client_credentials=OAuthFlow(
                token_url=f"{settings.issuer}/oauth/token", scopes=described
            ),
            authorization_code=OAuthFlow(
                authorization_url=f"{settings.issuer}/oauth/authorize",
                token_url=token_url,
                scopes=described,
            ),
        ),
    )


class PortalCore(InitPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        env = environment()
        app_config = HTMXPlugin().on_app_init(app_config)
        channels = live.plugin(self.settings)
        app_config = channels.on_app_init(app_config)
        app_config.template_config = TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(env)
        )
        app_config.route_handlers.extend(
            [
                *health.ROUTES,
                *orders.ROUTES,
                *supplier_pages.ROUTES,
                *supplier_api.ROUTES,
                *promise_imports.ROUTES,
                *order_imports.ROUTES,
                *list_exports.ROUTES,
                *live.ROUTES,
                *email_actions.ROUTES,
                *centre_pages.ROUTES,
                *centre_api.ROUTES,
                *webhook_pages.ROUTES,
                *webhook_api.ROUTES,
                *customer_pages.ROUTES,
                *customer_api.ROUTES,
                *customer_live.ROUTES,
                *admin.ROUTES,
                *outbox_pages.ROUTES,
                *alert_pages.ROUTES,
                *change_review.ROUTES,
                *scorecard_pages.ROUTES,
                *dashboard_pages.ROUTES,
                *staff_orders.ROUTES,
                *staff_orders_api.ROUTES,
                *order_audit.ROUTES,
                *receipt_pages.ROUTES,
                *settings_pages.ROUTES,
                *oauth_routes.ROUTES,
                *signin.ROUTES,
                *invitations.ROUTES,
                *reset.ROUTES,
                *external.ROUTES,
                create_static_files_router(
                    path="/static", directories=[STATIC], opt=public(shared=True)
                ),
            ]
        )
        # The API's description is public (suppliers' developers read it before they have a
        # client); the interactive viewers load scripts from CDNs the CSP forbids, so only the
        # JSON and YAML documents are served.
        app_config.openapi_config = OpenAPIConfig(
            title="Portal API",
            version="1",
            components=Components(security_schemes={"oauth2": oauth2_scheme(self.settings)}),
            security=[{"oauth2": []}],
            render_plugins=[YamlRenderPlugin(), JsonRenderPlugin()],
            openapi_router=Router("/schema", route_handlers=[], opt=public()),
        )
        app_config.csrf_config = CSRFConfig(
            secret=self.settings.secret(),
            cookie_name=CSRF_COOKIE,
            cookie_secure=True,
            cookie_httponly=True,
            cookie_samesite="lax",
            header_name=CSRF_HEADER,
            # The API takes only bearer tokens and the token, introspection and revocation
            # endpoints only client credentials: no ambient cookie can drive them.
            exclude=["^/api/", "^/oauth/token$", "^/oauth/introspect$", "^/oauth/revoke$"],
        )
        app_config.guards.append(authorise)
        app_config.guards.append(settings_pages.reason_codes_guard)
        app_config.before_send.append(security.before_send(self.settings))
        app_config.state["settings"] = self.settings
        notifier = InProcess(self.settings, live.publisher(channels))
        after_commit = notifier.after_commit(live.announcer(channels))
        app_config.dependencies.update(dependencies(self.settings, env, after_commit))
        app_config.exception_handlers.update(exception_handlers(self.settings, env))
        app_config.lifespan.append(database_lifespan(self.settings))
        app_config.lifespan.append(notifier.lifespan)  # after the database: it uses it
        return app_config
