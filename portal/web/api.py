"""The conventions every `/api/v1` route follows, in one place.

- Responses are JSON encoded here (msgspec: decimals as strings, times in UTC), so the bytes a
  client got the first time are the bytes an idempotent replay gives back. Every answer varies
  by the caller's token and language, and sets no cookie.
- Errors are RFC 9457 problem details (`application/problem+json`); the messages written here
  are in the caller's language (Accept-Language). A stale write answers 409 with the version
  now current and the record as it is now (`current`), so the client can redo its change
  without another read.
- Reads carry `ETag: "<version>"` and answer 304 to a matching `If-None-Match`. Writes to an
  existing record take `If-Match: "<version>"` or a `version` field; with neither, 428.
- A POST with an `Idempotency-Key` runs once per caller and key: the key is claimed in its own
  transaction before the command runs, the response is kept 24 hours, and a repeat with the
  same body gets it back (`Idempotent-Replayed: true`); the same key with another body is 422.
  A repeat that arrives while the first is still running waits for its response (409 when it
  does not come in time).
- Listings page by an opaque cursor (the position after the last item), never by offset, so
  an ERP polling for changes neither skips nor repeats rows while others write.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter
from litestar.types import ExceptionHandlersMap

from portal.auth.principal import Principal
from portal.db import tables as t
from portal.db.database import Database
from portal.domain.errors import Conflict, DomainError
from portal.domain.orders import reason_codes
from portal.services.unit_of_work import UnitOfWork
from portal.web.deps import i18n_for
from portal.web.errors import PROBLEM_JSON, status_of
from portal.web.i18n import I18n

JSON = "application/json"
VARY = "Authorization, Accept-Language"
"""Answers depend on whose token it is and on the language asked for."""

IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEEP_RESPONSES = timedelta(hours=24)
WAIT_FOR_FIRST = 15.0
"""Seconds a repeat waits for the response of the same request still running elsewhere."""
MAX_KEY_LENGTH = 255
MAX_DECIMALS = 4
"""Quantities and prices are stored with four decimals; more would be rounded silently."""
LARGEST = Decimal("1e14")
"""Quantities and prices are stored as numeric(18, 4)."""

STALE = "urn:portal:problem:stale-version"
VERSION_REQUIRED = "urn:portal:problem:version-required"
INVALID = "urn:portal:problem:invalid-request"
KEY_REUSED = "urn:portal:problem:idempotency-key-reused"
KEY_IN_USE = "urn:portal:problem:idempotency-key-in-progress"

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        header="If-Match",
        description='The ETag of the version you read, e.g. "3" (or send `version`).',
    ),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(header="If-None-Match", description="The ETag of the copy you hold: 304."),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        header=IDEMPOTENCY_KEY,
        description="Your unique key for this request (a UUID, say): a repeat with the same "
        "key and body is answered from the first, and runs nothing. Kept 24 hours.",
    ),
]


# --- Problem details ---------------------------------------------------------------------------


class FieldError(msgspec.Struct, frozen=True):
    field: str
    """Where in the request, e.g. `lines[1].quantity`, `If-Match` or `cursor`."""
    message: str


class ProblemDetails(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details. `current_version` and `current` come with a stale write (409):
    the version now stored and the record as it is now."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    current_version: int | None = None
    current: Any = None
    errors: list[FieldError] | None = None


class ApiProblem(Exception):
    """A problem the API answers with; raised anywhere below a handler, rendered by `render`."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type: str = "about:blank",
        current_version: int | None = None,
        current: Any = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type
        self.current_version = current_version
        self.current = current
        self.errors = errors
        self.headers = headers or {}


def render(request: Request[Any, Any, Any], problem: ApiProblem) -> Response[bytes]:
    body = ProblemDetails(
        type=problem.type,
        title=HTTPStatus(problem.status).phrase,
        status=problem.status,
        detail=problem.detail,
        instance=request.url.path,
        current_version=problem.current_version,
        current=problem.current,
        errors=problem.errors,
    )
    return Response(
        msgspec.json.encode(body),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers={"Vary": VARY, **problem.headers},
    )


def i18n_of(request: Request[Any, Any, Any]) -> I18n:
    return i18n_for(request, request.app.state.settings)


def exception_handlers() -> ExceptionHandlersMap:
    """For the API's router: our own problems, and a body or query that does not fit its
    schema (wrong types, missing or unknown fields) as 422 in the caller's language."""

    def api_problem(request: Request[Any, Any, Any], exc: ApiProblem) -> Response[bytes]:
        return render(request, exc)

    def invalid(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
        found = exc.extra if isinstance(exc.extra, list) else []
        errors = [
            # Litestar names the body itself `data`, after the handler's parameter.
            FieldError(
                "" if item.get("key") == "data" else str(item.get("key") or ""),
                str(item["message"]),
            )
            for item in found
            if isinstance(item, dict) and "message" in item
        ]
        return render(request, invalid_request(i18n_of(request), errors))

    return {ApiProblem: api_problem, ValidationException: invalid}


def invalid_request(i18n: I18n, errors: list[FieldError]) -> ApiProblem:
    """422 naming every field that is wrong; the detail quotes the first."""
    if not errors:
        return ApiProblem(422, i18n.gettext("The request is not valid."), type=INVALID)
    first = errors[0]
    where = f"{first.field}: {first.message}" if first.field else first.message
    detail = i18n.ngettext(
        "The request is not valid: %(error)s",
        "The request has %(count)d errors; the first: %(error)s",
        len(errors),
    ) % {"error": where, "count": len(errors)}
    return ApiProblem(422, detail, type=INVALID, errors=errors)


def missing_scope(i18n: I18n, scope: str) -> PermissionDeniedException:
    """403 for a caller whose token lacks the scope this particular use of a route needs."""
    return PermissionDeniedException(
        detail=i18n.gettext("This needs the scope %(scope)s.") % {"scope": scope},
        headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
    )


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The problems a route may answer with, for the OpenAPI document."""
    described = {
        400: "The request is malformed: a header (If-Match, Idempotency-Key), or a body that "
        "is not JSON.",
        401: "No bearer token, or it is expired or revoked.",
        403: "The token lacks the scope this needs.",
        404: "No such record, or not one the caller may see.",
        409: "The version sent is stale (`current_version` and `current` say what is stored "
        "now), or a request with this Idempotency-Key is still running.",
        422: "The request is not valid (`errors` names each field), a business rule refused "
        "it, or the Idempotency-Key was used for another request.",
        428: "A write to an existing record needs If-Match or a `version` field.",
    }
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=described[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
            examples=[Example(summary=HTTPStatus(status).phrase, value=_EXAMPLES[status])]
            if status in _EXAMPLES
            else None,
        )
        for status in statuses
    }


_EXAMPLES: dict[int, dict[str, Any]] = {
    409: {
        "type": STALE,
        "title": HTTPStatus(409).phrase,
        "status": 409,
        "detail": "Someone changed this since you read it; it is now at version 4.",
        "instance": "/api/v1/purchase-orders/PO-2026-00042/lines/1/promise",
        "current_version": 4,
        "current": {"number": "PO-2026-00042", "version": 4, "...": "..."},
    },
    422: {
        "type": INVALID,
        "title": HTTPStatus(422).phrase,
        "status": 422,
        "detail": "The request is not valid: schedule[0].quantity: the quantity must be more "
        "than zero (got 0).",
        "instance": "/api/v1/purchase-orders/PO-2026-00042/lines/1/promise",
        "errors": [
            {
                "field": "schedule[0].quantity",
                "message": "the quantity must be more than zero (got 0).",
            }
        ],
    },
    428: {
        "type": VERSION_REQUIRED,
        "title": HTTPStatus(428).phrase,
        "status": 428,
        "detail": 'Send the version you read, as If-Match: "3" or a "version" field.',
        "instance": "/api/v1/purchase-orders/PO-2026-00042/acknowledgement",
    },
}


# --- Responses ---------------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def json_response(
    body: msgspec.Struct,
    *,
    status: int = 200,
    version: int | None = None,
    location: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """`version` sets the ETag; `location` the Location of a record just made."""
    sent = {"Vary": VARY, **(headers or {})}
    if version is not None:
        sent["ETag"] = etag(version)
    if location is not None:
        sent["Location"] = location
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=sent)


def read_response(body: msgspec.Struct, version: int, if_none_match: str | None) -> Response[bytes]:
    """A record with its ETag, or 304 when the caller's copy (If-None-Match) is current."""
    if version_matches(if_none_match, version):
        return Response(b"", status_code=304, headers={"ETag": etag(version), "Vary": VARY})
    return json_response(body, version=version)


def version_matches(header: str | None, version: int) -> bool:
    """If-None-Match compares weakly: `W/"3"` names version 3 as well as `"3"` does."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag(version) in tags


# --- Versions a write is based on --------------------------------------------------------------


def if_match(header: str | None, i18n: I18n) -> int | None:
    """The version named by If-Match, or None without one; 400 when it names none."""
    if header is None:
        return None
    text = header.strip()
    if text.startswith('"') and text.endswith('"') and text[1:-1].isdigit():
        return int(text[1:-1])
    raise ApiProblem(
        400,
        i18n.gettext('If-Match must be the ETag you read, such as "3" (got %(value)s).')
        % {"value": header},
        type=INVALID,
        errors=[FieldError("If-Match", header)],
    )


def required_version(if_match_header: str | None, given: int | None, i18n: I18n) -> int:
    """The version the caller read: If-Match or the body's `version` (they must agree); 428
    without either, since a blind write would overwrite changes the caller never saw."""
    header = if_match(if_match_header, i18n)
    if header is not None and given is not None and header != given:
        raise ApiProblem(
            422,
            i18n.gettext(
                "If-Match names version %(header)s but the body says version %(body)s; "
                "send one of them."
            )
            % {"header": header, "body": given},
            type=INVALID,
            errors=[FieldError("version", str(given))],
        )
    version = header if header is not None else given
    if version is None:
        raise version_required(i18n)
    return version


def version_required(i18n: I18n, what: str | None = None) -> ApiProblem:
    detail = i18n.gettext('Send the version you read, as If-Match: "3" or a "version" field.')
    if what is not None:
        detail = i18n.gettext("Send the version you read of %(what)s in `versions`.") % {
            "what": what
        }
    return ApiProblem(428, detail, type=VERSION_REQUIRED)


def stale(
    i18n: I18n, conflict: Conflict, current: Any, *, version: int | None = None
) -> ApiProblem:
    """409 with the record as it is now. `version`: the current version of `current` when the
    conflict is about one record (a request over several names the stale one in its message)."""
    if version is None:
        detail = i18n.explain(conflict)
    else:
        detail = i18n.gettext(
            "Someone changed this since you read it; it is now at version %(version)s. "
            "Apply your change to `current` and send it again."
        ) % {"version": version}
    return ApiProblem(
        409,
        detail,
        type=STALE,
        current_version=version if version is not None else conflict.current_version,
        current=current,
    )


# --- Checks at the edge ------------------------------------------------------------------------


def today() -> date:
    """The day promises are measured against: the UTC day, as the services count it."""
    return datetime.now(UTC).date()


class Checks:
    """What a request must satisfy beyond its schema, collected field by field so that one
    answer names every mistake, in the caller's language."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n
        self._ = i18n.gettext
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def quantity(self, field: str, value: Decimal | None) -> None:
        if value is None:
            return
        if not value.is_finite():
            self.fail(field, self._("%(value)s is not a number.") % {"value": value})
        elif value <= 0:
            self.fail(
                field,
                self._("the quantity must be more than zero (got %(value)s).") % {"value": value},
            )
        else:
            self.amount(field, value)

    def price(self, field: str, value: Decimal | None) -> None:
        if value is None:
            return
        if not value.is_finite():
            self.fail(field, self._("%(value)s is not a number.") % {"value": value})
        elif value < 0:
            self.fail(
                field, self._("a price cannot be negative (got %(value)s).") % {"value": value}
            )
        else:
            self.amount(field, value)

    def amount(self, field: str, value: Decimal) -> None:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
            self.fail(
                field,
                self._("at most %(places)s decimal places (got %(value)s).")
                % {"places": MAX_DECIMALS, "value": value},
            )
        elif value >= LARGEST:
            self.fail(field, self._("%(value)s is too large.") % {"value": value})

    def not_past(self, field: str, value: date | None) -> None:
        if value is not None and value < today():
            self.fail(
                field,
                self._("%(date)s is in the past; promise today or a later day.")
                % {"date": value.isoformat()},
            )

    def reason_code(self, field: str, code: str | None) -> None:
        if code is not None and code not in reason_codes():
            self.fail(
                field,
                self._("unknown reason code %(code)s; use one of: %(codes)s.")
                % {"code": code, "codes": ", ".join(reason_codes())},
            )

    def line(self, field: str, po_number: str, line_no: int, known: set[int]) -> None:
        if line_no not in known:
            self.fail(
                field,
                self._("purchase order %(number)s has no line %(line_no)s.")
                % {"number": po_number, "line_no": line_no},
            )

    def once(self, field: str, what: str, seen: set[Any], value: Any) -> None:
        """`value` may appear only once in the list `field` is part of."""
        if value in seen:
            self.fail(field, self._("%(what)s is named twice.") % {"what": what})
        seen.add(value)

    def required(self, field: str, present: bool) -> None:
        if not present:
            self.fail(field, self._("this is required here."))

    def exactly_one(self, field: str, names: tuple[str, ...], given: int) -> None:
        if given != 1:
            self.fail(
                field, self._("give exactly one of: %(names)s.") % {"names": ", ".join(names)}
            )

    def choice(self, field: str, value: str, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            self.fail(
                field,
                self._("unknown value %(value)s; use one of: %(values)s.")
                % {"value": value, "values": ", ".join(allowed)},
            )

    def moment(self, field: str, text: str | None) -> datetime | None:
        """An RFC 3339 time with its offset (a time without one would mean different moments
        to different clients)."""
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.fail(
                field,
                self._("%(value)s is not a time with a time zone, such as 2026-03-02T09:30:00Z.")
                % {"value": text},
            )
            return None
        return moment.astimezone(UTC)

    def done(self) -> None:
        if self.errors:
            raise invalid_request(self.i18n, self.errors)


# --- Cursors -----------------------------------------------------------------------------------


def encode_cursor(updated_at: datetime, row_id: int) -> str:
    """The position after an item of a listing ordered by (updated_at, id), as opaque text."""
    raw = msgspec.json.encode([updated_at.astimezone(UTC).isoformat(), row_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str, i18n: I18n) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        moment, row_id = msgspec.json.decode(raw, type=tuple[datetime, int])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise invalid_request(
            i18n,
            [FieldError("cursor", i18n.gettext("this cursor is not one the API gave out."))],
        ) from None
    if moment.tzinfo is None:
        raise invalid_request(
            i18n, [FieldError("cursor", i18n.gettext("this cursor is not one the API gave out."))]
        )
    return moment, row_id


# --- Writes: idempotency and the answers of a command -------------------------------------------


Run = Callable[[], Awaitable[Response[bytes]]]
Current = Callable[[Conflict], Awaitable[ApiProblem]]


class Write:
    """One write request: who makes it, the unit of work its command runs in, the language its
    problems are told in; `answer` runs the command by the conventions above."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        uow: UnitOfWork,
        db: Database,
    ) -> None:
        self.request = request
        self.principal = principal
        self.actor = principal.actor
        self.uow = uow
        self.db = db
        self.i18n = i18n_of(request)

    def version(self, given: int | None, if_match_header: str | None) -> int:
        """The version the write is based on (If-Match or `given`); 428 without."""
        return required_version(if_match_header, given, self.i18n)

    def checks(self) -> Checks:
        return Checks(self.i18n)

    async def answer(
        self, run: Run, *, key: str | None = None, on_conflict: Current, based_on: Any
    ) -> Response[bytes]:
        """Run the command and answer: a business rule's refusal as a problem, a stale version
        as 409 with the current record (`on_conflict`). With an Idempotency-Key (`key`, POSTs
        only), it runs at most once per caller and key; `based_on` (the versions the write
        starts from) is part of what must match for a repeat to be the same request."""
        request, i18n = self.request, self.i18n
        if key is None:
            return await _answer(request, run, on_conflict)
        _check_key(key, i18n)
        owner = owner_of(self.principal)
        body = await request.body()
        fingerprint = _fingerprint(request.method, request.url.path, based_on, body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_FIRST
        in_flight = _in_flight(request)
        slot = (owner, key)
        running = in_flight.get(slot)
        if running is not None:
            # The first of these requests runs in this process: wait for it here rather than
            # queue for the database behind it, then read what it answered.
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(running), deadline - loop.time())
            return await self._by_record(owner, key, fingerprint, deadline, run, on_conflict)
        done = loop.create_future()
        in_flight[slot] = done
        try:
            return await self._by_record(owner, key, fingerprint, deadline, run, on_conflict)
        finally:
            del in_flight[slot]
            done.set_result(None)

    async def _by_record(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        deadline: float,
        run: Run,
        on_conflict: Current,
    ) -> Response[bytes]:
        """Replay the stored answer to this key, wait for it, or claim the key and run."""
        i18n = self.i18n
        while True:
            record = await _record(owner, key)
            if record is None:
                claimed, record = await _claim(self.db, owner, key, fingerprint)
                if claimed is not None:
                    return await _run_once(self.db, claimed, self.request, run, on_conflict)
                if record is None:  # released by its failed first request meanwhile
                    continue
            if record["fingerprint"] != fingerprint:
                raise ApiProblem(
                    422,
                    i18n.gettext(
                        "This Idempotency-Key was used for another request; use a new key for "
                        "a new request."
                    ),
                    type=KEY_REUSED,
                    errors=[FieldError(IDEMPOTENCY_KEY, key)],
                )
            stored = await _stored_response(record["id"], deadline)
            if stored is not None:
                return _replay(stored)
            if asyncio.get_running_loop().time() >= deadline:
                raise ApiProblem(
                    409,
                    i18n.gettext(
                        "A request with this Idempotency-Key is still running; ask again shortly."
                    ),
                    type=KEY_IN_USE,
                    headers={"Retry-After": "1"},
                )


def provide_write(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    uow: NamedDependency[UnitOfWork],
    db: NamedDependency[Database],
) -> Write:
    return Write(request, principal, uow, db)


def owner_of(principal: Principal) -> str:
    """Whose keys these are: the OAuth client, and the user too when it acts for one (two
    users of one app never share keys)."""
    if principal.user_id is None:
        return principal.client_id
    return f"{principal.client_id}:user:{principal.user_id}"


def _check_key(key: str, i18n: I18n) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(" " < char <= "~" for char in key):
        raise ApiProblem(
            400,
            i18n.gettext(
                "Idempotency-Key must be 1 to %(length)s visible ASCII characters, such as a UUID."
            )
            % {"length": MAX_KEY_LENGTH},
            type=INVALID,
            errors=[FieldError(IDEMPOTENCY_KEY, key[:MAX_KEY_LENGTH])],
        )


def _fingerprint(method: str, path: str, based_on: Any, body: bytes) -> str:
    """The request as a repeat must reproduce it: the JSON body compared by value (key order and
    spacing do not matter), the path, and the versions it is based on (header or body)."""
    canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted") if body else b""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), msgspec.json.encode(based_on), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _in_flight(request: Request[Any, Any, Any]) -> dict[tuple[str, str], asyncio.Future[None]]:
    """The keys this process is answering right now (owner, key) -> done when answered."""
    state = request.app.state
    if getattr(state, "idempotency_in_flight", None) is None:
        state.idempotency_in_flight = {}
    found: dict[tuple[str, str], asyncio.Future[None]] = state.idempotency_in_flight
    return found


async def _record(owner: str, key: str) -> dict[str, Any] | None:
    """The caller's record of the key, unless it has expired (a plain read: no lock)."""
    record = t.IdempotencyRecord
    fresh = record.created_at >= datetime.now(UTC) - KEEP_RESPONSES
    row: dict[str, Any] | None = (
        await record.select(record.id, record.fingerprint)
        .where((record.owner == owner) & (record.key == key) & fresh)
        .first()
        .run()
    )
    return row


async def _claim(
    db: Database, owner: str, key: str, fingerprint: str
) -> tuple[int | None, dict[str, Any] | None]:
    """(the id of our new claim, None) or (None, the record someone else holds, if any). Its
    own short transaction, committed before the command starts, so that a concurrent repeat
    finds the claim instead of running the command as well."""
    record = t.IdempotencyRecord
    async with db.write_transaction():
        now = datetime.now(UTC)
        await record.delete().where(record.created_at < now - KEEP_RESPONSES).run()
        inserted = (
            await record.insert(
                record(owner=owner, key=key, fingerprint=fingerprint, created_at=now)
            )
            .on_conflict(target=(record.owner, record.key), action="DO NOTHING")
            .returning(record.id)
            .run()
        )
        if inserted:
            return int(inserted[0]["id"]), None
        held = (
            await record.select(record.id, record.fingerprint)
            .where((record.owner == owner) & (record.key == key))
            .first()
            .run()
        )
        return None, held


async def _stored_response(record_id: int, deadline: float) -> dict[str, Any] | None:
    """The response the first request stored, once it has (None when the deadline passes or
    the claim was released)."""
    record = t.IdempotencyRecord
    pause = 0.02
    loop = asyncio.get_running_loop()
    while True:
        row = await record.select().where(record.id == record_id).first().run()
        if row is None or row["status_code"] is not None:
            return row
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.25)


def _replay(row: dict[str, Any]) -> Response[bytes]:
    headers = msgspec.json.decode(row["headers"]) if row["headers"] else {}
    return Response(
        row["response"].encode(),
        status_code=row["status_code"],
        media_type=row["content_type"],
        headers={**headers, REPLAYED: "true"},
    )


async def _run_once(
    db: Database,
    record_id: int,
    request: Request[Any, Any, Any],
    run: Run,
    on_conflict: Current,
) -> Response[bytes]:
    record = t.IdempotencyRecord
    try:
        response = await _answer(request, run, on_conflict)
    except BaseException:
        # Nothing happened (the command rolled back) or we cannot tell the client what did:
        # let a repeat run it again rather than replay a failure that was not the request's.
        async with db.write_transaction():
            await record.delete().where(record.id == record_id).run()
        raise
    content = response.content if isinstance(response.content, bytes) else b""
    headers = {
        name: str(value)
        for name, value in response.headers.items()
        if name.lower() not in ("content-type", "content-length")
    }
    async with db.write_transaction():
        await (
            record.update(
                {
                    record.status_code: response.status_code,
                    record.response: content.decode(),
                    record.content_type: str(response.media_type),
                    record.headers: msgspec.json.encode(headers).decode(),
                }
            )
            .where(record.id == record_id)
            .run()
        )
    return response


async def _answer(
    request: Request[Any, Any, Any], run: Run, on_conflict: Current
) -> Response[bytes]:
    """The command's response, or the problem it ran into (kept for repeats like a success:
    a repeat of a refused request is refused the same way)."""
    try:
        return await run()
    except Conflict as conflict:
        return render(request, await on_conflict(conflict))
    except ApiProblem as problem:
        return render(request, problem)
    except DomainError as refused:
        return render(request, ApiProblem(status_of(refused), i18n_of(request).explain(refused)))
