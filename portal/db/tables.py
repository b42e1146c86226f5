"""Piccolo tables: the projections of the current state, and the append-only event table.

Rows are read and written only by `repositories.py` and the unit of work. Columns are chosen so
that no migration ever needs to change a column's type (SQLite cannot), and JSON columns are
plain `JSON` (text) so an event's data is stored byte for byte as it was hashed.

Unique keys over two columns (an event's stream and seq, a line's order and number) are made
by `CREATE UNIQUE INDEX` in the migrations: Piccolo adds table constraints with
`ALTER TABLE ... ADD CONSTRAINT`, which SQLite does not have.

`id: Serial` only declares, for type checkers, the primary key Piccolo adds to every table.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

QTY = (18, 4)
MONEY = (18, 4)


class Organisation(Table):
    id: Serial
    code = Varchar(length=32, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=16)  # internal | supplier | customer | both (supplier and customer)
    created_at = Timestamptz(default=TimestamptzNow())


class AppUser(Table, tablename="app_user"):
    id: Serial
    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=200)
    org = ForeignKey(references=Organisation, target_column="code", null=False)
    role = Varchar(length=32)
    locale = Varchar(length=16, default="en")
    time_zone = Varchar(length=64, default="UTC")
    password_hash = Text(null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class PurchaseOrder(Table, tablename="purchase_order"):
    id: Serial
    number = Varchar(length=40, unique=True)
    supplier = ForeignKey(references=Organisation, target_column="code", null=False, index=True)
    currency = Varchar(length=3)
    status = Varchar(length=24, index=True)
    buyer = Varchar(length=200, default="")
    version = Integer(default=1)
    cr_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class POLine(Table, tablename="po_line"):
    id: Serial
    po = ForeignKey(references=PurchaseOrder, null=False, index=True)
    line_no = Integer()
    item = Varchar(length=64)
    description = Text(default="")
    quantity = Numeric(digits=QTY)
    unit = Varchar(length=16)
    unit_price = Numeric(digits=MONEY)
    need_date = Date()
    first_promise = JSON(null=True, default=None)
    promise = JSON(null=True, default=None)
    promised_date = Date(null=True, default=None, index=True)
    shipped_qty = Numeric(digits=QTY)
    received_qty = Numeric(digits=QTY)
    rejected_qty = Numeric(digits=QTY)
    cancelled = Boolean(default=False)


class SalesOrder(Table, tablename="sales_order"):
    id: Serial
    number = Varchar(length=40, unique=True)
    customer = ForeignKey(references=Organisation, target_column="code", null=False, index=True)
    currency = Varchar(length=3)
    status = Varchar(length=24, index=True)
    contact_email = Varchar(length=254, default="")
    contact_phone = Varchar(length=40, default="")
    carrier = Varchar(length=100, default="")
    tracking_no = Varchar(length=100, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class SOLine(Table, tablename="so_line"):
    id: Serial
    so = ForeignKey(references=SalesOrder, null=False, index=True)
    line_no = Integer()
    item = Varchar(length=64)
    description = Text(default="")
    quantity = Numeric(digits=QTY)
    unit = Varchar(length=16)
    unit_price = Numeric(digits=MONEY)
    requested_date = Date()
    expected_date = Date()
    po_line = ForeignKey(references=POLine, null=True, default=None, index=True)
    handling_days = Integer(default=0)


class ChangeRequest(Table, tablename="change_request"):
    id: Serial
    number = Varchar(length=60, unique=True)
    po = ForeignKey(references=PurchaseOrder, null=False, index=True)
    status = Varchar(length=16, index=True)
    opened_by = Varchar(length=16)  # the side: internal | supplier
    opened_by_name = Varchar(length=200)
    reason_code = Varchar(length=32)
    comment = Text(default="")
    changes = JSON()
    round = Integer(default=1)
    supersedes = Varchar(length=60, null=True, default=None)
    superseded_by = Varchar(length=60, null=True, default=None)
    from_acknowledgement = Boolean(default=False)
    auto_approved = Boolean(default=False)
    decided_by_name = Varchar(length=200, default="")
    decision_comment = Text(default="")
    due_at = Timestamptz()
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class Shipment(Table):
    id: Serial
    number = Varchar(length=60, unique=True)
    po = ForeignKey(references=PurchaseOrder, null=False, index=True)
    ship_date = Date()
    carrier = Varchar(length=100)
    tracking_no = Varchar(length=100, default="")
    expected_arrival = Date(null=True, default=None)
    lines = JSON()
    created_at = Timestamptz(default=TimestamptzNow())
    # posted | cancelled. A cancelled shipment stays, so its number is never reused and the
    # timeline's references to it still resolve.
    status = Varchar(length=16, default="posted")
    updated_at = Timestamptz(default=TimestamptzNow())


class Receipt(Table):
    id: Serial
    number = Varchar(length=60, unique=True)
    po = ForeignKey(references=PurchaseOrder, null=False, index=True)
    shipment = Varchar(length=60, null=True, default=None)
    received_on = Date()
    lines = JSON()
    created_at = Timestamptz(default=TimestamptzNow())


class Stream(Table):
    """The head of each timeline: its last seq and hash, so deleting the newest event shows."""

    id: Serial
    name = Varchar(length=80, unique=True)
    last_seq = Integer(default=0)
    last_hash = Varchar(length=64)


class Event(Table):
    """Append-only: rows are inserted by the unit of work and never updated or deleted."""

    id: Serial
    stream = Varchar(length=80)
    seq = Integer()
    at = Timestamptz()
    actor = JSON()
    via = Varchar(length=16)
    kind = Varchar(length=48, index=True)
    data = JSON()
    audience = Varchar(length=48)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


TABLES: list[type[Table]] = [
    Organisation,
    AppUser,
    PurchaseOrder,
    POLine,
    SalesOrder,
    SOLine,
    ChangeRequest,
    Shipment,
    Receipt,
    Stream,
    Event,
]


class Counter(Table):
    """Number sequences (one per prefix and year), so every order gets the next free number."""

    id: Serial
    name = Varchar(length=40, unique=True)
    value = Integer(default=0)


TABLES.append(Counter)


# --- Sign-in and the authorization server ------------------------------------------------------
# Secrets (client secrets, codes, refresh tokens, session ids, one-time links) are stored as
# SHA-256 digests: they are long random strings, so a digest cannot be reversed, and a stolen
# copy of the database signs nobody in.


class OAuthClient(Table, tablename="oauth_client"):
    id: Serial
    client_id = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    org = ForeignKey(references=Organisation, target_column="code", null=False, index=True)
    role = Varchar(length=32)  # the role whose scopes bound the client's: supplier, customer...
    secret_hash = Varchar(length=64, null=True, default=None)  # None: a public client
    grant_types = Text(default="")  # space-separated
    scope = Text(default="")  # space-separated: the most the client may ever be given
    redirect_uris = Text(default="")  # newline-separated, matched exactly
    token_endpoint_auth_method = Varchar(length=32, default="client_secret_basic")
    first_party = Boolean(default=False)  # the portal's own web front: no consent page
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class OAuthCode(Table, tablename="oauth_code"):
    id: Serial
    code_hash = Varchar(length=64, unique=True)
    client_id = Varchar(length=64)
    user_id = Integer()
    redirect_uri = Text()
    scope = Text()
    nonce = Varchar(length=255, null=True, default=None)
    code_challenge = Varchar(length=128)
    code_challenge_method = Varchar(length=8)
    auth_time = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    family = Varchar(length=64, null=True, default=None)  # the grant its exchange started


class OAuthGrant(Table, tablename="oauth_grant"):
    """A token family: everything issued from one code or one client-credentials request.
    Reusing a rotated refresh token (or a code) revokes the whole family."""

    id: Serial
    family = Varchar(length=64, unique=True)
    client_id = Varchar(length=64, index=True)
    user_id = Integer(null=True, default=None, index=True)
    org = Varchar(length=32)
    scope = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoke_reason = Varchar(length=64, default="")


class OAuthToken(Table, tablename="oauth_token"):
    id: Serial
    family = Varchar(length=64, index=True)
    access_jti = Varchar(length=64, unique=True)
    refresh_hash = Varchar(length=64, null=True, default=None, unique=True)
    issued_at = Timestamptz()
    access_expires_at = Timestamptz()
    refresh_expires_at = Timestamptz(null=True, default=None)
    rotated_at = Timestamptz(null=True, default=None)  # its refresh token was used
    revoked_at = Timestamptz(null=True, default=None)


class SigningKey(Table, tablename="signing_key"):
    """Keys that sign access and ID tokens. The newest unretired key signs; retired keys stay
    published at /oauth/jwks until every token they signed has expired."""

    id: Serial
    kid = Varchar(length=64, unique=True)
    private_pem = Text()
    public_jwk = JSON()
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="web_session"):
    """A browser's sign-in: the first-party client's tokens, kept server-side."""

    id: Serial
    sid_hash = Varchar(length=64, unique=True)
    user_id = Integer(index=True)
    family = Varchar(length=64, null=True, default=None)
    access_token = Text(null=True, default=None)
    refresh_token = Text(null=True, default=None)
    method = Varchar(length=32, default="password")  # password | oidc:<issuer>
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)


class LoginFlow(Table, tablename="login_flow"):
    """One sign-in in progress: the state, PKCE verifier and nonce of a code flow the portal
    started (as the first-party client, or as a client of an external provider), bound to the
    browser that started it by a cookie holding `state`."""

    id: Serial
    state_hash = Varchar(length=64, unique=True)
    provider = Varchar(length=64, default="")  # "" for our own server, else the org's IdP
    code_verifier = Varchar(length=128)
    nonce = Varchar(length=128, default="")
    next_url = Text(default="/")
    sid_hash = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class OneTimeLink(Table, tablename="one_time_link"):
    """An invitation or password-reset link: single use, expiring."""

    id: Serial
    token_hash = Varchar(length=64, unique=True)
    purpose = Varchar(length=16)  # invite | reset
    user_id = Integer(index=True)
    created_by = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class IdentityProvider(Table, tablename="identity_provider"):
    """An organisation's external OpenID Connect provider."""

    id: Serial
    org = ForeignKey(references=Organisation, target_column="code", null=False, unique=True)
    name = Varchar(length=200)
    issuer = Varchar(length=300)
    client_id = Varchar(length=200)
    client_secret = Text(default="")  # needed in clear to authenticate to the provider
    scope = Varchar(length=200, default="openid email profile")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ExternalIdentity(Table, tablename="external_identity"):
    """A user's identity at an external provider: (issuer, subject) is unique (a migration
    index), and a user is only ever found by both, never by e-mail."""

    id: Serial
    issuer = Varchar(length=300)
    subject = Varchar(length=255)
    user_id = Integer(index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class AccessLog(Table, tablename="access_log"):
    """Sign-ins, failures, tokens issued and revoked, requests denied: for admins to read."""

    id: Serial
    at = Timestamptz(default=TimestamptzNow(), index=True)
    kind = Varchar(length=48, index=True)
    outcome = Varchar(length=16)  # ok | denied | failed
    user_id = Integer(null=True, default=None)
    email = Varchar(length=254, default="")
    client_id = Varchar(length=64, default="")
    org = Varchar(length=32, default="")
    ip = Varchar(length=64, default="")
    path = Varchar(length=300, default="")
    detail = JSON(default="{}")


TABLES.extend(
    [
        OAuthClient,
        OAuthCode,
        OAuthGrant,
        OAuthToken,
        SigningKey,
        WebSession,
        LoginFlow,
        OneTimeLink,
        IdentityProvider,
        ExternalIdentity,
        AccessLog,
    ]
)


class IdempotencyRecord(Table, tablename="idempotency_record"):
    """A POST made with an `Idempotency-Key`: claimed before the command runs, then holding the
    response that a retry with the same key and body gets back. Keys belong to one caller
    (`owner`: the OAuth client, or the user for a browser session); the unique index on
    (owner, key) is created by the migration."""

    id: Serial
    owner = Varchar(length=100)
    key = Varchar(length=255)
    fingerprint = Varchar(length=64)  # SHA-256 of method, path and body
    status_code = Integer(null=True, default=None)  # None while the first request runs
    response = Text(default="")
    content_type = Varchar(length=100, default="")
    headers = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


TABLES.append(IdempotencyRecord)


# --- Notifications -----------------------------------------------------------------------------
# The outbox is written in the transaction of the change; the dispatcher turns each of its rows
# into in-app notifications and deliveries (an e-mail, a webhook call) in one later transaction,
# and delivers those with retries. Nothing is sent from inside a command's transaction.


class Outbox(Table):
    """One committed order event still to be turned into notifications."""

    id: Serial
    stream = Varchar(length=80)
    seq = Integer()
    kind = Varchar(length=48)
    created_at = Timestamptz(default=TimestamptzNow())
    done_at = Timestamptz(null=True, default=None, index=True)


class Notification(Table):
    """An in-app notification for one user. Its words are rendered when it is read, in the
    reader's language and time zone, from `topic` and `data`."""

    id: Serial
    user_id = Integer(index=True)
    topic = Varchar(length=32)
    stream = Varchar(length=80)
    seq = Integer()
    kind = Varchar(length=48)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class NotificationPreference(Table, tablename="notification_preference"):
    """A user's choice for one topic; a topic with no row follows the defaults of the domain.
    (user_id, topic) is unique (a migration index)."""

    id: Serial
    user_id = Integer()
    topic = Varchar(length=32)
    in_app = Boolean(default=True)
    email = Boolean(default=True)
    digest = Boolean(default=False)  # e-mail once a day instead of at once
    updated_at = Timestamptz(default=TimestamptzNow())


class Delivery(Table):
    """One e-mail or one webhook call to make, until it succeeds or is given up.

    `key` is unique: the same event never becomes two deliveries to the same target, however
    often the fan-out runs. A worker leases a due row (`locked_until`) before sending, so two
    workers never send it at once and a worker that died is replaced when the lease ends."""

    id: Serial
    key = Varchar(length=200, unique=True)
    channel = Varchar(length=16)  # email | webhook
    target = Varchar(length=300)  # the user id, the contact address, or the webhook endpoint id
    org = Varchar(length=32, default="", index=True)
    stream = Varchar(length=80, default="")
    seq = Integer(default=0)
    kind = Varchar(length=48, default="")
    payload = JSON(default="{}")
    status = Varchar(length=16, default="pending", index=True)  # pending | sent | failed
    attempts = Integer(default=0)
    next_at = Timestamptz(default=TimestamptzNow(), index=True)
    locked_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    subject = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table, tablename="delivery_attempt"):
    """Every try of a delivery, successful or not: the delivery log."""

    id: Serial
    delivery = Integer(index=True)
    at = Timestamptz(default=TimestamptzNow())
    ok = Boolean(default=False)
    status_code = Integer(null=True, default=None)
    detail = Text(default="")
    duration_ms = Integer(default=0)
    worker = Varchar(length=64, default="")


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """An organisation's subscription: a URL and the event kinds it wants. `secrets` holds the
    signing secrets, newest first ({"secret", "created_at", "expires_at"}): during a rotation the
    old one signs too until it expires, as the Standard Webhooks specification allows."""

    id: Serial
    org = ForeignKey(references=Organisation, target_column="code", null=False, index=True)
    url = Text()
    description = Varchar(length=200, default="")
    kinds = Text(default="")  # space-separated event kinds; empty: every kind
    secrets = JSON(default="[]")
    active = Boolean(default=True)
    failures = Integer(default=0)  # consecutive failed deliveries
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class UsedLink(Table, tablename="used_link"):
    """The id of a signed one-time link (an e-mail action) once it has been used: the link is
    checked by its signature; this row is what makes it single-use."""

    id: Serial
    jti = Varchar(length=64, unique=True)
    purpose = Varchar(length=32)
    used_at = Timestamptz(default=TimestamptzNow())


TABLES.extend(
    [
        Outbox,
        Notification,
        NotificationPreference,
        Delivery,
        DeliveryAttempt,
        WebhookEndpoint,
        UsedLink,
    ]
)


# --- The internal workspace --------------------------------------------------------------------


class Alert(Table):
    """An early warning: one rule tripped for one subject (an order, one of its lines, a change
    request or a shipment). At most one alert per (rule, subject) is open at a time: a partial
    unique index (the migration) makes the second scanner's insert a no-op, so an alert is
    raised once however many workers scan."""

    id: Serial
    rule = Varchar(length=32, index=True)
    subject = Varchar(length=160)  # e.g. "po/PO-1/line/2", "cr/CR-PO-1-1", "shipment/ASN-7"
    stream = Varchar(length=80, index=True)  # the order whose timeline tells it
    number = Varchar(length=40)  # that order's number
    org = Varchar(length=32, default="", index=True)  # the order's supplier or customer
    owner_id = Integer(null=True, default=None, index=True)  # the PO's buyer, the SO's sales
    owner_name = Varchar(length=200, default="")
    level = Varchar(length=16, default="raised")  # raised | escalated
    data = JSON(default="{}")  # what tripped it: dates, quantities, hours late
    due_at = Timestamptz(null=True, default=None)  # when the awaited thing was due
    raised_at = Timestamptz()
    escalated_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None, index=True)


class RuleSetting(Table, tablename="rule_setting"):
    """A business setting an admin changed (alert thresholds, tolerance rules): a key with no
    row follows the defaults of `Settings`."""

    id: Serial
    key = Varchar(length=64, unique=True)
    value = JSON(default="null")
    version = Integer(default=1)
    updated_by = Varchar(length=200, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class ReasonCode(Table, tablename="reason_code"):
    """Why a promise or an order changes, as the parties pick it, in both languages."""

    id: Serial
    code = Varchar(length=32, unique=True)
    label_en = Varchar(length=200)
    label_zh = Varchar(length=200)
    active = Boolean(default=True)
    position = Integer(default=0)
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class ImportJob(Table, tablename="import_job"):
    """An order import (CSV or XLSX from an ERP) run in the background: the file as uploaded,
    the column mapping chosen at preview, and how far the worker that leased it has come."""

    id: Serial
    kind = Varchar(length=24)  # purchase_orders | sales_orders
    status = Varchar(length=16, default="pending", index=True)  # pending|running|done|failed
    filename = Varchar(length=255, default="")
    content = Bytea()
    mapping = JSON(default="{}")
    user_id = Integer(index=True)
    actor = JSON(default="{}")  # who asked for it, as the timeline will name them
    total = Integer(default=0)  # rows in the file
    processed = Integer(default=0)
    errors = JSON(default="[]")  # [{"row": n, "message": "..."}]
    result = JSON(default="{}")  # the orders it created
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    locked_until = Timestamptz(null=True, default=None)
    worker = Varchar(length=64, default="")


TABLES.extend([Alert, RuleSetting, ReasonCode, ImportJob])
