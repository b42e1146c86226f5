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
    kind = Varchar(length=16)  # internal | supplier | customer
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
