"""The administration pages (/admin): organisations, users and their invitations, OAuth clients,
external identity providers, and the access log.

Every route needs the `admin` scope, and every service call checks again that the actor is an
administrator of an internal organisation. Forms post without JavaScript and answer with a
303 redirect; a refused form is shown again with its message and what was typed. A client's
secret appears once, on the page that answers its registration or rotation, never cached.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter
from litestar.response import Redirect

from portal.auth import invitations
from portal.auth import scopes as s
from portal.auth.external import CALLBACK_PATH
from portal.auth.guards import requires
from portal.db.database import Database
from portal.domain import accounts as rules
from portal.domain.actors import Actor
from portal.domain.errors import DomainError, NotFound
from portal.domain.events import Event
from portal.services import accounts, clients
from portal.services.unit_of_work import UnitOfWork
from portal.settings import Settings
from portal.web.i18n import I18n
from portal.web.rendering import LANGUAGE_NAMES, View
from portal.web.timeline import Entry, Fact

ADMIN = "/admin"
ORGANISATIONS = f"{ADMIN}/organisations"
USERS = f"{ADMIN}/users"
CLIENTS = f"{ADMIN}/clients"
ACCESS_LOG = f"{ADMIN}/access-log"
LOG_PER_PAGE = 50
OUTCOMES = ("ok", "denied", "failed")
TIME_ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
)
"""Suggestions for the time zone field; any IANA name is accepted."""
NO_STORE = {"Cache-Control": "no-store"}
"""Pages that show a secret or an invitation link once: no cache may keep them."""

KIND_LABELS = {
    "internal": "Internal",
    "supplier": "Supplier",
    "customer": "Customer",
    "both": "Supplier and customer",
}
ROLE_LABELS = {
    "buyer": "Buyer",
    "sales": "Sales",
    "warehouse": "Warehouse",
    "admin": "Administrator",
    "supplier": "Supplier",
    "customer": "Customer",
}
EVENT_TITLES = {
    "org.created": "Organisation created",
    "org.updated": "Organisation changed",
    "user.created": "User created",
    "user.updated": "User changed",
    "user.disabled": "User disabled",
    "user.enabled": "User enabled",
    "client.registered": "Client registered",
    "client.secret_rotated": "Client secret rotated",
    "client.disabled": "Client disabled",
    "identity_provider.set": "Identity provider set",
    "identity_provider.cleared": "Identity provider removed",
}
FIELD_LABELS = {
    "name": "Name",
    "kind": "Kind",
    "role": "Role",
    "locale": "Language",
    "time_zone": "Time zone",
    "active": "Active",
    "grant_types": "Grant types",
    "scope": "Scopes",
    "redirect_uris": "Redirect URIs",
    "issuer": "Issuer",
}


def _uow(db: Database) -> UnitOfWork:
    return UnitOfWork(db)


def _labels(i18n: I18n, words: dict[str, str]) -> dict[str, str]:
    return {code: i18n.gettext(text) for code, text in words.items()}


def _refused(i18n: I18n, error: DomainError) -> str:
    """The message shown next to a refused form, in the reader's language. An unknown record
    is not a refusal: it propagates as the 404 every other page gives."""
    if isinstance(error, NotFound):
        raise error
    return i18n.explain(error)


def _see_other(path: str) -> Response[Any]:
    return Redirect(path, status_code=303)


def _many(value: str | list[str]) -> tuple[str, ...]:
    """A form field that may be sent once, many times, or not at all (checkboxes)."""
    return tuple(value) if isinstance(value, list) else ((value,) if value else ())


# --- History: the organisation's stream as admins read it ------------------------------------


def _value(i18n: I18n, key: str, value: Any) -> str:
    if isinstance(value, bool):
        return i18n.gettext("yes") if value else i18n.gettext("no")
    if key == "kind":
        return i18n.gettext(KIND_LABELS.get(value, value))
    if key == "role":
        return i18n.gettext(ROLE_LABELS.get(value, value))
    if key == "locale":
        return LANGUAGE_NAMES.get(str(value), str(value))
    return str(value) if value not in (None, "") else "—"


def history_entry(event: Event, i18n: I18n) -> Entry:
    data = event.data
    _ = i18n.gettext
    facts = []
    for key, label in (("code", _("Organisation")), ("email", _("User"))):
        if data.get(key):
            facts.append(Fact(label, str(data[key])))
    if data.get("client_id"):
        facts.append(Fact(_("Client ID"), str(data["client_id"])))
    before, after = data.get("before") or {}, data.get("after") or {}
    for key in dict.fromkeys([*after, *before]):
        label = _(FIELD_LABELS.get(key, key))
        was = _value(i18n, key, before[key]) if key in before else None
        now = _value(i18n, key, after[key]) if key in after else "—"
        facts.append(Fact(label, now, was))
    if data.get("secret_changed"):
        facts.append(Fact(_("Client secret"), _("changed")))
    if "sessions_ended" in data:
        facts.append(Fact(_("Sessions ended"), str(data["sessions_ended"])))
    if "token_families_revoked" in data:
        facts.append(Fact(_("Token families revoked"), str(data["token_families_revoked"])))
    name = str(event.actor.get("name") or "")
    if event.actor.get("kind") == "system":
        name = _("Command line") if name == accounts.CLI_ACTOR_NAME else _("Portal (automatic)")
    return Entry(
        seq=event.seq,
        at=event.at,
        actor=name,
        via=i18n.via(event.via.value),
        kind=event.kind,
        title=_(EVENT_TITLES.get(event.kind, event.kind)),
        facts=facts,
    )


# --- Index -------------------------------------------------------------------------------------


@get(ADMIN, name="admin", include_in_schema=False, opt=requires(s.ADMIN))
async def index(view: NamedDependency[View], actor: NamedDependency[Actor]) -> Response[str]:
    organisations = await accounts.organisations(actor)
    return view.page(
        "internal/admin/index.html",
        {
            "organisations": len(organisations),
            "users": sum(org.users for org in organisations),
            "clients": len(await clients.clients(actor)),
        },
    )


# --- Organisations -----------------------------------------------------------------------------


class OrganisationForm(msgspec.Struct):
    code: str = ""
    name: str = ""
    kind: str = "supplier"


async def _organisations_page(
    view: View, actor: Actor, form: OrganisationForm, error: str | None = None
) -> Response[str]:
    return view.page(
        "internal/admin/organisations.html",
        {
            "organisations": await accounts.organisations(actor),
            "kinds": _labels(view.i18n, KIND_LABELS),
            "form": form,
            "error": error,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(ORGANISATIONS, name="admin-organisations", include_in_schema=False, opt=requires(s.ADMIN))
async def organisations(
    view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _organisations_page(view, actor, OrganisationForm())


@post(ORGANISATIONS, include_in_schema=False, opt=requires(s.ADMIN))
async def create_organisation(
    data: Annotated[OrganisationForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        made = await accounts.create_organisation(
            _uow(db),
            actor,
            accounts.CreateOrganisation(code=data.code, name=data.name, kind=data.kind),
        )
    except DomainError as error:
        return await _organisations_page(view, actor, data, _refused(view.i18n, error))
    return _see_other(f"{ORGANISATIONS}/{made.code}")


async def _organisation_page(
    view: View, actor: Actor, code: str, form: OrganisationForm | None, error: str | None = None
) -> Response[str]:
    org = await accounts.organisation(actor, code)
    return view.page(
        "internal/admin/organisation.html",
        {
            "org": org,
            "form": form or OrganisationForm(code=org.code, name=org.name, kind=org.kind),
            "error": error,
            "kinds": _labels(view.i18n, KIND_LABELS),
            "roles": _labels(view.i18n, ROLE_LABELS),
            "users": await accounts.users(actor, org.code),
            "clients": await clients.clients(actor, org.code),
            "provider": await clients.identity_provider(actor, org.code),
            "history": [
                history_entry(event, view.i18n) for event in await accounts.history(actor, org.code)
            ],
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(
    f"{ORGANISATIONS}/{{code:str}}",
    name="admin-organisation",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def organisation(
    code: str, view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _organisation_page(view, actor, code, None)


@post(f"{ORGANISATIONS}/{{code:str}}", include_in_schema=False, opt=requires(s.ADMIN))
async def update_organisation(
    code: str,
    data: Annotated[OrganisationForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    # The code names the organisation in the URL; one in the body is not looked at.
    form = OrganisationForm(code=code, name=data.name, kind=data.kind)
    try:
        await accounts.update_organisation(
            _uow(db), actor, accounts.UpdateOrganisation(code=code, name=data.name, kind=data.kind)
        )
    except DomainError as error:
        return await _organisation_page(view, actor, code, form, _refused(view.i18n, error))
    return _see_other(f"{ORGANISATIONS}/{code}")


# --- Users -------------------------------------------------------------------------------------


class UserForm(msgspec.Struct):
    org: str = ""
    email: str = ""
    name: str = ""
    role: str = ""
    locale: str = "en"
    time_zone: str = "UTC"


async def _users_page(
    view: View, actor: Actor, org: str, form: UserForm, error: str | None = None
) -> Response[str]:
    return view.page(
        "internal/admin/users.html",
        {
            "users": await accounts.users(actor, org or None),
            "organisations": await accounts.organisations(actor),
            "org": org,
            "form": form,
            "error": error,
            "roles": _labels(view.i18n, ROLE_LABELS),
            "org_roles": s.ORG_ROLES,
            "locales": LANGUAGE_NAMES,
            "time_zones": TIME_ZONES,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(USERS, name="admin-users", include_in_schema=False, opt=requires(s.ADMIN))
async def users(
    view: NamedDependency[View], actor: NamedDependency[Actor], org: FromQuery[str] = ""
) -> Response[str]:
    return await _users_page(view, actor, org, UserForm(org=org))


@post(USERS, include_in_schema=False, opt=requires(s.ADMIN))
async def create_user(
    data: Annotated[UserForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        made = await accounts.create_user(
            _uow(db),
            actor,
            accounts.CreateUser(
                org=data.org,
                email=data.email,
                name=data.name,
                role=data.role,
                locale=data.locale,
                time_zone=data.time_zone,
            ),
        )
    except DomainError as error:
        return await _users_page(view, actor, "", data, _refused(view.i18n, error))
    return _see_other(f"{USERS}/{made.id}")


async def _user_page(
    view: View,
    actor: Actor,
    user_id: int,
    form: UserForm | None = None,
    error: str | None = None,
    invitation: invitations.Invitation | None = None,
) -> Response[str]:
    found = await accounts.user(actor, user_id)
    org = await accounts.organisation(actor, found.org)
    page = view.page(
        "internal/admin/user.html",
        {
            "user": found,
            "org": org,
            "form": form
            or UserForm(
                org=found.org,
                email=found.email,
                name=found.name,
                role=found.role,
                locale=found.locale,
                time_zone=found.time_zone,
            ),
            "error": error,
            "invitation": invitation,
            "roles": _labels(view.i18n, ROLE_LABELS),
            "locales": LANGUAGE_NAMES,
            "time_zones": TIME_ZONES,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )
    if invitation:
        page.headers.update(NO_STORE)
    return page


@get(f"{USERS}/{{user_id:int}}", name="admin-user", include_in_schema=False, opt=requires(s.ADMIN))
async def user(
    user_id: int, view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _user_page(view, actor, user_id)


@post(f"{USERS}/{{user_id:int}}", include_in_schema=False, opt=requires(s.ADMIN))
async def update_user(
    user_id: int,
    data: Annotated[UserForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        await accounts.update_user(
            _uow(db),
            actor,
            accounts.UpdateUser(
                user_id=user_id,
                name=data.name,
                role=data.role,
                locale=data.locale,
                time_zone=data.time_zone,
            ),
        )
    except DomainError as error:
        return await _user_page(view, actor, user_id, data, _refused(view.i18n, error))
    return _see_other(f"{USERS}/{user_id}")


@post(f"{USERS}/{{user_id:int}}/disable", include_in_schema=False, opt=requires(s.ADMIN))
async def disable_user(
    user_id: int,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        await accounts.disable_user(_uow(db), actor, accounts.DisableUser(user_id=user_id))
    except DomainError as error:
        return await _user_page(view, actor, user_id, error=_refused(view.i18n, error))
    return _see_other(f"{USERS}/{user_id}")


@post(f"{USERS}/{{user_id:int}}/enable", include_in_schema=False, opt=requires(s.ADMIN))
async def enable_user(
    user_id: int,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        await accounts.enable_user(_uow(db), actor, accounts.EnableUser(user_id=user_id))
    except DomainError as error:
        return await _user_page(view, actor, user_id, error=_refused(view.i18n, error))
    return _see_other(f"{USERS}/{user_id}")


@post(f"{USERS}/{{user_id:int}}/invite", include_in_schema=False, opt=requires(s.ADMIN))
async def invite_user(
    user_id: int,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """Answers with the user's page and the link itself, so an invitation whose mail did not
    go out can still be passed on by hand."""
    try:
        sent = await invitations.invite(db, settings, actor, user_id)
    except DomainError as error:
        return await _user_page(view, actor, user_id, error=_refused(view.i18n, error))
    return await _user_page(view, actor, user_id, invitation=sent)


# --- OAuth clients -----------------------------------------------------------------------------


class ClientForm(msgspec.Struct):
    org: str = ""
    name: str = ""
    role: str = ""
    scopes: str | list[str] = ""
    grant_types: str | list[str] = rules.CLIENT_CREDENTIALS
    redirect_uris: str = ""


async def _clients_page(
    view: View, actor: Actor, org: str, form: ClientForm, error: str | None = None
) -> Response[str]:
    return view.page(
        "internal/admin/clients.html",
        {
            "clients": await clients.clients(actor, org or None),
            "organisations": await accounts.organisations(actor),
            "org": org,
            "form": form,
            "chosen_scopes": _many(form.scopes),
            "chosen_grants": _many(form.grant_types),
            "error": error,
            "roles": _labels(view.i18n, ROLE_LABELS),
            "scopes": (*s.SCOPES, *s.OIDC_SCOPES),
            "grant_types": rules.GRANT_TYPES,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


def _secret_page(view: View, issued: clients.IssuedSecret, rotated: bool) -> Response[str]:
    page = view.page(
        "internal/admin/client_secret.html",
        {"client": issued.client, "secret": issued.secret, "rotated": rotated},
    )
    page.headers.update(NO_STORE)
    return page


@get(CLIENTS, name="admin-clients", include_in_schema=False, opt=requires(s.ADMIN))
async def clients_list(
    view: NamedDependency[View], actor: NamedDependency[Actor], org: FromQuery[str] = ""
) -> Response[str]:
    return await _clients_page(view, actor, org, ClientForm(org=org))


@post(CLIENTS, include_in_schema=False, opt=requires(s.ADMIN))
async def register_client(
    data: Annotated[ClientForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        issued = await clients.register_client(
            _uow(db),
            actor,
            clients.RegisterClient(
                org=data.org,
                name=data.name,
                role=data.role,
                scopes=_many(data.scopes),
                grant_types=_many(data.grant_types),
                redirect_uris=tuple(data.redirect_uris.splitlines()),
            ),
        )
    except DomainError as error:
        return await _clients_page(view, actor, "", data, _refused(view.i18n, error))
    return _secret_page(view, issued, rotated=False)


async def _client_page(
    view: View, actor: Actor, client_id: str, error: str | None = None
) -> Response[str]:
    found = await clients.client(actor, client_id)
    return view.page(
        "internal/admin/client.html",
        {
            "client": found,
            "org": await accounts.organisation(actor, found.org),
            "roles": _labels(view.i18n, ROLE_LABELS),
            "error": error,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(
    f"{CLIENTS}/{{client_id:str}}",
    name="admin-client",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def client(
    client_id: str, view: NamedDependency[View], actor: NamedDependency[Actor]
) -> Response[str]:
    return await _client_page(view, actor, client_id)


@post(f"{CLIENTS}/{{client_id:str}}/rotate", include_in_schema=False, opt=requires(s.ADMIN))
async def rotate_secret(
    client_id: str,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        issued = await clients.rotate_secret(
            _uow(db), actor, clients.RotateSecret(client_id=client_id)
        )
    except DomainError as error:
        return await _client_page(view, actor, client_id, _refused(view.i18n, error))
    return _secret_page(view, issued, rotated=True)


@post(f"{CLIENTS}/{{client_id:str}}/disable", include_in_schema=False, opt=requires(s.ADMIN))
async def disable_client(
    client_id: str,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
) -> Response[Any]:
    try:
        await clients.disable_client(_uow(db), actor, clients.DisableClient(client_id=client_id))
    except DomainError as error:
        return await _client_page(view, actor, client_id, _refused(view.i18n, error))
    return _see_other(f"{CLIENTS}/{client_id}")


# --- Identity providers ------------------------------------------------------------------------


class ProviderForm(msgspec.Struct):
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    name: str = ""
    scope: str = "openid email profile"


async def _provider_page(
    view: View,
    actor: Actor,
    settings: Settings,
    code: str,
    form: ProviderForm | None,
    error: str | None = None,
) -> Response[str]:
    org = await accounts.organisation(actor, code)
    provider = await clients.identity_provider(actor, org.code)
    if form is None:
        form = (
            ProviderForm(
                issuer=provider.issuer,
                client_id=provider.client_id,
                name=provider.name,
                scope=provider.scope,
            )
            if provider
            else ProviderForm()
        )
    return view.page(
        "internal/admin/identity_provider.html",
        {
            "org": org,
            "provider": provider,
            "callback_url": settings.base_url.rstrip("/") + CALLBACK_PATH,
            # A secret typed into a refused form is not sent back to the browser.
            "form": msgspec.structs.replace(form, client_secret=""),
            "error": error,
        },
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY if error else HTTPStatus.OK,
    )


@get(
    f"{ORGANISATIONS}/{{code:str}}/identity-provider",
    name="admin-identity-provider",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def identity_provider(
    code: str,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    settings: NamedDependency[Settings],
) -> Response[str]:
    return await _provider_page(view, actor, settings, code, None)


@post(
    f"{ORGANISATIONS}/{{code:str}}/identity-provider",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def set_identity_provider(
    code: str,
    data: Annotated[ProviderForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    try:
        await clients.set_identity_provider(
            _uow(db),
            actor,
            clients.SetIdentityProvider(
                org=code,
                issuer=data.issuer,
                client_id=data.client_id,
                client_secret=data.client_secret,
                name=data.name,
                scope=data.scope,
            ),
        )
    except DomainError as error:
        return await _provider_page(view, actor, settings, code, data, _refused(view.i18n, error))
    return _see_other(f"{ORGANISATIONS}/{code}")


@post(
    f"{ORGANISATIONS}/{{code:str}}/identity-provider/clear",
    include_in_schema=False,
    opt=requires(s.ADMIN),
)
async def clear_identity_provider(
    code: str,
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    try:
        await clients.clear_identity_provider(
            _uow(db), actor, clients.ClearIdentityProvider(org=code)
        )
    except DomainError as error:
        return await _provider_page(view, actor, settings, code, None, _refused(view.i18n, error))
    return _see_other(f"{ORGANISATIONS}/{code}")


# --- Access log --------------------------------------------------------------------------------


class LogListing(msgspec.Struct, frozen=True, kw_only=True):
    kind: str = ""
    outcome: str = ""
    org: str = ""

    def url(self, page: int = 1) -> str:
        params = {"kind": self.kind, "outcome": self.outcome, "org": self.org}
        query = {key: value for key, value in params.items() if value}
        if page > 1:
            query["page"] = str(page)
        return f"{ACCESS_LOG}?{urlencode(query)}" if query else ACCESS_LOG


@get(ACCESS_LOG, name="admin-access-log", include_in_schema=False, opt=requires(s.ADMIN))
async def access_log(
    view: NamedDependency[View],
    actor: NamedDependency[Actor],
    kind: FromQuery[str] = "",
    outcome: FromQuery[str] = "",
    org: FromQuery[str] = "",
    page: Annotated[int, QueryParameter(ge=1)] = 1,
) -> Response[str]:
    listing = LogListing(kind=kind, outcome=outcome, org=org)
    return view.page(
        "internal/admin/access_log.html",
        {
            "log": await accounts.access_log(
                actor,
                accounts.AccessFilter(kind=kind, outcome=outcome, org=org),
                page=page,
                per_page=LOG_PER_PAGE,
            ),
            "listing": listing,
            "kinds": await accounts.access_kinds(actor),
            "outcomes": OUTCOMES,
            "organisations": await accounts.organisations(actor),
        },
    )


ROUTES = [
    index,
    organisations,
    create_organisation,
    organisation,
    update_organisation,
    users,
    create_user,
    user,
    update_user,
    disable_user,
    enable_user,
    invite_user,
    clients_list,
    register_client,
    client,
    rotate_secret,
    disable_client,
    identity_provider,
    set_identity_provider,
    clear_identity_provider,
    access_log,
]
