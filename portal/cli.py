"""`portal` command line: serve | worker | migrate | demo | verify-timeline | create-client |
create-user | invite | rotate-keys.

Every failure a user can cause (a bad setting, an unreachable database, a broken timeline)
ends with one readable line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from portal.settings import Settings, SettingsError

if TYPE_CHECKING:
    from portal.db.database import Database
    from portal.domain.actors import Actor

EXIT_FAILED = 1
EXIT_USAGE = 2


def _fail(message: str, status: int = EXIT_FAILED) -> NoReturn:
    print(f"portal: {message}", file=sys.stderr)
    raise SystemExit(status)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        _fail(str(error), EXIT_USAGE)


def _run(settings: Settings, job: Callable[[Settings], Coroutine[Any, Any, int]]) -> int:
    from portal.db.database import DatabaseURLError, without_password

    # Piccolo's own migration commands find the engine through this module.
    os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
    from portal.db.migrations import MigrationFailed
    from portal.domain.errors import DomainError

    try:
        return asyncio.run(job(settings))
    except DatabaseURLError as error:
        _fail(str(error), EXIT_USAGE)
    except BrokenPipeError:
        # The reader went away (`portal demo | head`): nothing left to tell anyone.
        sys.stderr.close()
        return EXIT_FAILED
    except (ConnectionError, TimeoutError, socket.gaierror) as error:
        _fail(f"cannot reach the database at {without_password(settings.database_url)}: {error}")
    except OSError as error:
        if error.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
            _fail(
                f"cannot reach the database at {without_password(settings.database_url)}: {error}"
            )
        _fail(f"{error.strerror or error} ({error.filename or 'no file'})")
    except (DomainError, MigrationFailed) as error:
        _fail(str(error))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if type(error).__module__.startswith(("asyncpg", "sqlite3")):
            _fail(f"database error at {without_password(settings.database_url)}: {error}")
        raise


async def _migrate(settings: Settings) -> int:
    from portal.db.migrations import migrate

    applied = await migrate(settings.database_url)
    print(f"portal: database is up to date ({applied} migration(s) applied now).")
    return 0


async def _demo(settings: Settings) -> int:
    from portal.db.database import Database
    from portal.db.migrations import pending_migrations
    from portal.demo import load_demo

    db = Database(settings.database_url)
    await db.start()
    try:
        if await pending_migrations(db):
            _fail("the database is not migrated; run `portal migrate` first.")
        result = await load_demo(db, settings)
    finally:
        await db.close()
    print(result.describe())
    return 0


async def _verify(settings: Settings) -> int:
    from portal.db import timeline
    from portal.db.database import Database
    from portal.db.migrations import pending_migrations

    db = Database(settings.database_url)
    await db.start()
    try:
        if await pending_migrations(db):
            _fail("the database is not migrated; run `portal migrate` first.")
        breaks = await timeline.verify()
    finally:
        await db.close()
    if breaks:
        first = breaks[0]
        print(
            f"portal: timeline broken: stream {first.stream} at seq {first.seq}: {first.reason}"
            + (f" (and {len(breaks) - 1} more stream(s))" if len(breaks) > 1 else ""),
            file=sys.stderr,
        )
        return EXIT_FAILED
    print("portal: every timeline is intact.")
    return 0


@asynccontextmanager
async def _migrated(settings: Settings) -> AsyncIterator[Database]:
    """The database, open, for a command that needs its schema up to date."""
    from portal.db.database import Database
    from portal.db.migrations import pending_migrations

    db = Database(settings.database_url)
    await db.start()
    try:
        if await pending_migrations(db):
            _fail("the database is not migrated; run `portal migrate` first.")
        yield db
    finally:
        await db.close()


def _cli_actor() -> Actor:
    """The command line acts as the system actor `cli`: whoever can run it holds the
    database's keys anyway, and the administration services let only that actor in besides
    internal admins."""
    from portal.domain.actors import Actor
    from portal.services.accounts import CLI_ACTOR_NAME

    return Actor.system(CLI_ACTOR_NAME)


async def _create_client(settings: Settings, args: argparse.Namespace) -> int:
    from portal.services.clients import RegisterClient, register_client
    from portal.services.unit_of_work import UnitOfWork

    async with _migrated(settings) as db:
        issued = await register_client(
            UnitOfWork(db),
            _cli_actor(),
            RegisterClient(
                org=args.org,
                name=args.name or f"{args.org.strip().upper()} API client",
                scopes=(args.scopes,),
                grant_types=tuple(args.grant or ["client_credentials"]),
                role=args.role or "",
                redirect_uris=tuple(args.redirect_uri or []),
            ),
        )
    client = issued.client
    print(
        f"portal: client {client.name!r} registered for {client.org} (role {client.role}, "
        f"scopes {' '.join(client.scopes)}, grants {' '.join(client.grant_types)})."
    )
    print(f"client_id: {client.client_id}")
    print(f"client_secret: {issued.secret}")
    print("Keep the secret now: it is shown only this once (the portal stores only its hash).")
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from portal.services.accounts import CreateUser, create_user
    from portal.services.unit_of_work import UnitOfWork

    async with _migrated(settings) as db:
        user = await create_user(
            UnitOfWork(db),
            _cli_actor(),
            CreateUser(
                org=args.org,
                email=args.email,
                name=args.name,
                role=args.role,
                locale=args.locale,
                time_zone=args.time_zone,
            ),
        )
    print(f"portal: user {user.email} created in {user.org} as {user.role} (id {user.id}).")
    print(f"Next: send them an invitation to choose a password: portal invite --email {user.email}")
    return 0


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    from portal.auth.invitations import invite
    from portal.services.accounts import user_by_email

    actor = _cli_actor()
    async with _migrated(settings) as db:
        user = await user_by_email(actor, args.email)
        sent = await invite(db, settings, actor, user.id)
    if sent.mailed:
        print(f"portal: invitation mailed to {sent.email}.")
    else:
        print(f"portal: the invitation could not be mailed; pass this link to {sent.email}:")
    print(f"link: {sent.link}")
    print(f"It works once, until {sent.expires_at.isoformat(timespec='minutes')}.")
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    """Orders from an ERP file, checked and created at once (all or none), as the import
    pages' background job does; each row in error is printed and nothing is imported."""
    from pathlib import Path

    import anyio

    from portal.auth.scopes import ROLE_SCOPES
    from portal.db import tables as t
    from portal.domain.actors import Actor, ActorKind, Side, Via
    from portal.i18n import translations
    from portal.internal.imports import KIND_SCOPES, ROW_MESSAGES
    from portal.services import order_import as oi
    from portal.services.promise_import import ImportRefused
    from portal.services.unit_of_work import UnitOfWork

    kind = oi.Kind(args.kind)
    path = Path(args.file)
    try:
        sheet = oi.read_sheet(await anyio.Path(path).read_bytes(), path.name)
    except OSError as error:
        _fail(f"cannot read {path}: {error.strerror}")
    except ImportRefused as refused:
        _fail(f"{path.name}: {refused.problem.value} ({refused})")
    async with _migrated(settings) as db:
        if args.as_email:
            user = await t.AppUser.select().where(t.AppUser.email == args.as_email).first().run()
            if user is None or KIND_SCOPES[kind] not in ROLE_SCOPES.get(user["role"], ()):
                _fail(f"{args.as_email} is not a user who may import {kind.value}.")
            actor = Actor(
                ActorKind.USER,
                str(user["id"]),
                user["org"],
                Side.INTERNAL,
                user["display_name"],
                Via.IMPORT,
                user["role"],
            )
        else:
            home = (
                await t.Organisation.select(t.Organisation.code)
                .where(t.Organisation.kind == "internal")
                .first()
                .run()
            )
            if home is None:
                _fail("there is no internal organisation to import for.")
            actor = Actor(ActorKind.SYSTEM, None, home["code"], Side.INTERNAL, "cli", Via.IMPORT)
        mapping = oi.guess_mapping(sheet.headers, kind)
        missing = oi.unmapped(mapping, kind)
        if missing:
            _fail("no column found for: " + ", ".join(field.value for field in missing))
        checked = await oi.check(sheet, mapping, kind)
        words = translations("en")
        for problem in checked.errors:
            message = words.gettext(ROW_MESSAGES[problem.code]) % problem.params
            print(f"row {problem.row}: {message}", file=sys.stderr)
        if not checked.ok:
            _fail(f"{len(checked.errors)} rows with errors; nothing was imported.")
        try:
            done = await oi.create_orders(UnitOfWork(db), actor, kind, checked.orders)
        except oi.RowRefused as refused:
            _fail(f"row {refused.row}: {refused.error}; nothing was imported.")
    print(f"portal: imported {len(done.numbers)} orders with {done.lines} lines.")
    return 0


async def _rotate_keys(settings: Settings) -> int:
    from portal.auth.keys import rotate_signing_key

    async with _migrated(settings) as db:
        kid = await rotate_signing_key(db)
    print(
        f"portal: new signing key {kid}; tokens signed by the older keys stay valid until "
        "they expire."
    )
    return 0


async def _worker(settings: Settings) -> int:
    """Deliver notifications until SIGTERM or SIGINT; several workers may run at once."""
    import signal

    import anyio

    from portal.background import background_tasks
    from portal.notify.dispatcher import Dispatcher
    from portal.notify.live import standalone_publisher

    stop = anyio.Event()
    async with _migrated(settings) as db, standalone_publisher(settings) as publish:
        dispatcher = Dispatcher(settings, db, publish)
        async with anyio.create_task_group() as group:

            async def on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for _ in signals:
                        stop.set()
                        return

            group.start_soon(on_signal)
            for task in background_tasks(settings, db, publish):
                group.start_soon(task, stop)
            print(f"portal: worker {dispatcher.name} delivering notifications.", flush=True)
            await dispatcher.run_forever(stop)
            group.cancel_scope.cancel()
    print("portal: worker stopped.", flush=True)
    return 0


def _serve(settings: Settings, host: str, port: int) -> int:
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.over_tls:
        # Sign-in cookies are Secure: a browser keeps them over plain http only from its own
        # machine, so a portal facing a network must be reached over https (a TLS proxy).
        _fail(
            f"serving on {host} needs PORTAL_BASE_URL=https://... (the address users reach, "
            "through a TLS proxy); plain http works only on 127.0.0.1.",
            EXIT_USAGE,
        )

    import uvicorn

    from portal.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())
    return 0


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="portal",
        description="Supplier and customer collaboration portal. Settings come from PORTAL_* "
        "environment variables (see README).",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the portal over HTTP")
    serve.add_argument("--host", help="address to listen on (default: PORTAL_HOST)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: PORTAL_PORT)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser(
        "worker", help="deliver notifications (e-mail, webhooks) until stopped; run one or more"
    )
    commands.add_parser("demo", help="load demo data (idempotent) and print the demo sign-ins")
    commands.add_parser(
        "verify-timeline", help="check every timeline's hash chain; exit 1 at the first break"
    )
    client = commands.add_parser(
        "create-client",
        help="register an OAuth client for an organisation and print its secret (once)",
    )
    client.add_argument("--org", required=True, help="the organisation's code")
    client.add_argument(
        "--scopes", required=True, help='space-separated scopes, e.g. "po:read po:ship"'
    )
    client.add_argument("--name", help="what admins see (default: '<ORG> API client')")
    client.add_argument(
        "--role", help="the role bounding its scopes (default: the organisation's only role)"
    )
    client.add_argument(
        "--grant",
        action="append",
        choices=("client_credentials", "authorization_code", "refresh_token"),
        help="a grant type it may use (repeatable; default: client_credentials)",
    )
    client.add_argument(
        "--redirect-uri", action="append", help="for authorization_code (repeatable)"
    )
    user = commands.add_parser("create-user", help="create a user (without a password)")
    user.add_argument("--org", required=True, help="the organisation's code")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True, help="the name shown to others")
    user.add_argument("--role", required=True, help="buyer, sales, warehouse, admin, ...")
    user.add_argument("--locale", default="en", choices=("en", "zh_CN"))
    user.add_argument("--time-zone", default="UTC", help="an IANA name (default: UTC)")
    invite = commands.add_parser(
        "invite", help="mail a user the link that lets them choose a password"
    )
    invite.add_argument("--email", required=True)
    commands.add_parser(
        "rotate-keys", help="start signing tokens with a new key (older tokens stay valid)"
    )
    order_import = commands.add_parser(
        "import", help="import purchase or sales orders from an ERP's CSV or XLSX file"
    )
    order_import.add_argument("--kind", required=True, choices=["purchase_orders", "sales_orders"])
    order_import.add_argument("--as", dest="as_email", default="", metavar="EMAIL")
    order_import.add_argument("file", metavar="FILE")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = _settings()
    if args.command == "serve":
        return _serve(settings, args.host or settings.host, args.port or settings.port)
    jobs: dict[str, Callable[[Settings], Coroutine[Any, Any, int]]] = {
        "migrate": _migrate,
        "worker": _worker,
        "demo": _demo,
        "verify-timeline": _verify,
        "create-client": lambda settings: _create_client(settings, args),
        "create-user": lambda settings: _create_user(settings, args),
        "invite": lambda settings: _invite(settings, args),
        "rotate-keys": _rotate_keys,
        "import": lambda settings: _import(settings, args),
    }
    return _run(settings, jobs[args.command])


if __name__ == "__main__":
    sys.exit(main())
