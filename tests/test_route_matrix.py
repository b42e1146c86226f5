"""Tenant isolation, proven over every route: the role x route matrix (see matrix_support).

Pass = zero leaks: callers without the credential a route takes (anonymous ones, a bearer token
on a page, a session cookie on the API) get 401 (API) or are sent to sign in (pages); a
supplier or customer naming another tenant's record gets exactly what a record that does not
exist gets (404 for a read); no response to anyone ever shows another tenant's order number;
and whoever holds a route's scope does read its own orders there. The matrix is called once
per engine (one sign-in per user, one token per client) and judged as a whole.
"""

from __future__ import annotations

import pytest
from matrix_support import endpoints, run, settings, undeclared

from portal.app import create_app


def test_every_route_declares_its_scope_or_that_it_is_public() -> None:
    app = create_app(settings("sqlite:///unused.sqlite3"))
    assert endpoints(app), "the application has routes"
    assert undeclared(app) == []


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_no_tenant_ever_reaches_another_tenants_orders(
    engine: str, migrated_urls: dict[str, str]
) -> None:
    matrix = run(migrated_urls[engine])

    assert matrix.problems == []
    signed_in = {(c.org, c.role) for c in matrix.callers if c.kind == "session"}
    assert {org for org, _ in signed_in} == {"HOME", "SUP1", "SUP2", "CUS1", "CUS2", "BOTH"}
    assert {("BOTH", "supplier"), ("BOTH", "customer")} <= signed_in
    assert len(signed_in) == 10
    assert {c.org for c in matrix.callers if c.kind == "bearer"} == {
        "SUP1",
        "SUP2",
        "CUS1",
        "CUS2",
        "BOTH",
    }
    called = {(call.caller.name, str(call.endpoint)) for call in matrix.calls}
    assert called == {
        (caller.name, str(endpoint)) for caller in matrix.callers for endpoint in matrix.endpoints
    }

    assert {
        "strangers not turned away": matrix.strangers_are_turned_away(),
        "other tenants' records that answer unlike a missing one": (
            matrix.other_tenants_records_do_not_exist()
        ),
        "responses showing another tenant's order": (
            matrix.no_response_shows_other_tenants_orders()
        ),
        "calls that broke": matrix.nothing_breaks(),
        "own orders their owners could not read": matrix.owners_read_their_orders(),
    } == {
        "strangers not turned away": [],
        "other tenants' records that answer unlike a missing one": [],
        "responses showing another tenant's order": [],
        "calls that broke": [],
        "own orders their owners could not read": [],
    }
