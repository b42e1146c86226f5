"""CSRF: every state-changing request of a browser needs the token (a form field, or the header
htmx sends); the API and the OAuth client endpoints take no cookie at all, so a forged request
has nothing to ride on; and no GET changes anything. The routes are read from the application's
router, so a route added later is covered too."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import asyncpg
from http_story import ACME_USER, ADMIN_USER, portal, tell_the_story
from litestar import Litestar
from litestar.testing import AsyncTestClient
from matrix_support import STATE_CHANGING, Endpoint, call_order, endpoints

from portal.db import tables as t
from portal.db.database import Database
from portal.web.rendering import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER

EN = {"Accept-Language": "en"}
CSRF_REFUSAL = "CSRF token verification failed"
CLIENT_AUTHENTICATED = ("/oauth/token", "/oauth/introspect", "/oauth/revoke")
"""Authenticated by the client's own credentials in the request, never by a cookie."""
AUDIT_TABLES = {"access_log"}
"""The audit records every access, reads included: that is its job, not a change of state."""
STORY_RECORDS = {"purchase-orders": "PO-1", "sales-orders": "SO-1"}


def exempt(app: Litestar, endpoint: Endpoint) -> bool:
    assert app.csrf_config is not None
    patterns = app.csrf_config.exclude or []
    return any(re.search(pattern, endpoint.path) for pattern in patterns)


def refused_for_csrf(status: int, body: str) -> bool:
    return status == 403 and CSRF_REFUSAL in body


async def test_every_state_changing_page_needs_the_csrf_token(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=ADMIN_USER) as client:
        token = client.cookies[CSRF_COOKIE]
        writes = [
            endpoint
            for endpoint in sorted(endpoints(client.app), key=call_order)
            if endpoint.method in STATE_CHANGING and not exempt(client.app, endpoint)
        ]
        assert {"/sign-out", "/sign-in"} <= {endpoint.path for endpoint in writes}
        wrong = []
        for endpoint in writes:
            url = endpoint.url()
            send = client.request
            without = await send(endpoint.method, url, headers=EN, follow_redirects=False)
            forged = await send(
                endpoint.method,
                url,
                headers={**EN, CSRF_HEADER: token[::-1]},
                follow_redirects=False,
            )
            with_header = await send(
                endpoint.method, url, headers={**EN, CSRF_HEADER: token}, follow_redirects=False
            )
            with_field = await send(
                endpoint.method,
                url,
                headers=EN,
                data={CSRF_FIELD: token},
                follow_redirects=False,
            )
            if not refused_for_csrf(without.status_code, without.text):
                wrong.append(f"{endpoint} without a token: {without.status_code}")
            if not refused_for_csrf(forged.status_code, forged.text):
                wrong.append(f"{endpoint} with a forged token: {forged.status_code}")
            for how, answer in (("header", with_header), ("form field", with_field)):
                if refused_for_csrf(answer.status_code, answer.text):
                    wrong.append(f"{endpoint} refused despite the token in the {how}")
    assert wrong == []


async def test_the_api_and_client_endpoints_take_no_cookie(db: Database, database_url: str) -> None:
    """What CSRF protection leaves out must be unreachable with a browser's cookies alone."""
    await tell_the_story(db)
    async with portal(database_url, as_user=ADMIN_USER) as client:
        token = client.cookies[CSRF_COOKIE]
        left_out = [
            endpoint
            for endpoint in endpoints(client.app)
            if endpoint.method in STATE_CHANGING and exempt(client.app, endpoint)
        ]
        assert {endpoint.path for endpoint in left_out if not endpoint.api} == set(
            CLIENT_AUTHENTICATED
        )
        answers = {}
        for endpoint in left_out:
            # A signed-in browser's cookies, even with its CSRF token: no client, no bearer.
            answers[str(endpoint)] = await client.request(
                endpoint.method,
                endpoint.url(),
                headers={CSRF_HEADER: token},
                data={"grant_type": "client_credentials", "token": "anything"},
                follow_redirects=False,
            )
    assert {name: answer.status_code for name, answer in answers.items()} == {
        name: 401 for name in answers
    }


async def row_counts(database_url: str) -> dict[str, int]:
    """Counted over a connection of its own: the application's engine lives on the test
    client's event loop, not the test's."""
    names = [table._meta.tablename for table in t.TABLES]
    queries = {name: f"SELECT count(*) FROM {name}" for name in names if name not in AUDIT_TABLES}
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as connection:
            return {name: connection.execute(sql).fetchone()[0] for name, sql in queries.items()}
    connection = await asyncpg.connect(database_url)
    try:
        return {name: await connection.fetchval(sql) for name, sql in queries.items()}
    finally:
        await connection.close()


async def get_everything(client: AsyncTestClient[Litestar]) -> list[str]:
    """Every GET route, its path naming a record of the story where it names one."""
    reached = []
    for endpoint in endpoints(client.app):
        if endpoint.method != "GET" or endpoint.path.startswith("/live/"):
            # A live stream never ends under the test client; it only reads (tests/live).
            continue
        values = endpoint.placeholders()
        if endpoint.resource in STORY_RECORDS and endpoint.params:
            values = {**values, endpoint.params[0][0]: STORY_RECORDS[endpoint.resource]}
        for headers in (EN, {**EN, "HX-Request": "true"}):
            answer = await client.get(endpoint.url(values), headers=headers, follow_redirects=False)
            reached.append(f"{endpoint} {answer.status_code}")
    return reached


async def test_no_get_changes_anything(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    # How the purchase order page answered each: the handlers really ran.
    for person, po_page in ((ADMIN_USER, 200), (ACME_USER, 200), (None, 303)):
        async with portal(database_url, as_user=person) as client:
            before = await row_counts(database_url)
            reached = await get_everything(client)
            after = await row_counts(database_url)
        assert f"GET /purchase-orders/{{number:str}} {po_page}" in reached, person
        assert after == before, person
