"""`portal` command line: serve | migrate | demo | verify-timeline.

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
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from portal.settings import Settings, SettingsError

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


def _serve(settings: Settings, host: str, port: int) -> int:
    if host not in ("127.0.0.1", "localhost", "::1"):
        # Until sign-in exists (the OAuth issue), the portal must not face a network.
        _fail("until sign-in is built, the portal serves only on 127.0.0.1.", EXIT_USAGE)

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
    commands.add_parser("demo", help="load demo data (idempotent) and print the demo sign-ins")
    commands.add_parser(
        "verify-timeline", help="check every timeline's hash chain; exit 1 at the first break"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = _settings()
    if args.command == "serve":
        return _serve(settings, args.host or settings.host, args.port or settings.port)
    jobs: dict[str, Callable[[Settings], Coroutine[Any, Any, int]]] = {
        "migrate": _migrate,
        "demo": _demo,
        "verify-timeline": _verify,
    }
    return _run(settings, jobs[args.command])


if __name__ == "__main__":
    sys.exit(main())
