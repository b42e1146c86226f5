"""The guest lookup (/track) and the signed status page (/track/{token}), on SQLite and
PostgreSQL: a wrong number and a wrong contact get byte-identical answers, lookups are
rate-limited per address and per order number, and a link works until it expires and not at all
when forged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx
import pytest
from auth_support import TEST_SECRET_KEY, csrf_token_of
from customer_support import (
    CONTACT_EMAIL,
    SECRETS,
    comment,
    portal,
    settings,
    ship,
    supplier_acknowledges,
    tell_the_story,
    timeline_titles,
)

from portal.customer import tracking
from portal.db.database import Database

EN = {"Accept-Language": "en"}
VOLATILE = {"date", "set-cookie", "content-length"}
"""Headers that may differ between two identical answers: the clock, and a cookie the first
answer of a client sets (a request that already carries it gets none)."""


async def lookup(
    client: httpx.AsyncClient, number: str, contact: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    form = await client.get("/track", headers=EN)
    answer = await client.post(
        "/track",
        data={"number": number, "contact": contact, "_csrf_token": csrf_token_of(form.text)},
        headers={**EN, **headers},
        follow_redirects=False,
    )
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in VOLATILE}
    return answer.status_code, kept, answer.content


async def test_the_right_number_and_contact_open_the_status_page(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await supplier_acknowledges(db)
    await comment(db, "SO-1", "Your goods are packed.")
    await ship(db, "SO-1", "SF Express", "SF1234567890")
    async with portal(database_url, as_user=None) as client:
        for contact in (" buyer@CONTOSO.example ", "+86 (21) 5555 0101", "862155550101"):
            status, headers, _ = await lookup(client, "SO-1", contact)
            assert status == 303, contact
            assert headers["location"].startswith("/track/")
        page = await client.get(headers["location"], headers=EN)
        zh = await client.get(headers["location"], headers={"Accept-Language": "zh-CN"})

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Order SO-1" in html and "status-shipped" in html
    assert "BOLT-M8" in html and "SF Express" in html and "SF1234567890" in html
    assert timeline_titles(html) == [
        "Shipped",
        "Order confirmed",
        "Expected date changed",
        "Order placed",
    ]
    assert "Your goods are packed." not in html  # no comments
    assert "Chen Jing" not in html  # nobody's name
    assert "0.80" not in html  # no prices
    for secret in SECRETS:
        assert secret not in html
    assert '<html lang="zh-CN">' in zh.text and "SF1234567890" in zh.text


@pytest.mark.parametrize("contact", ["someone@else.example", "+86 21 5555 0199", ""])
async def test_a_wrong_number_and_a_wrong_contact_get_the_same_answer(
    db: Database, database_url: str, contact: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        wrong_contact = await lookup(client, "SO-1", contact)
        wrong_number = await lookup(client, "SO-404", CONTACT_EMAIL)
        unlinked_order = await lookup(client, "SO-2", CONTACT_EMAIL)  # exists, other contact
    assert wrong_contact[0] == 404
    assert wrong_contact == wrong_number == unlinked_order
    body = wrong_contact[2].decode()
    assert "We could not find an order with that number and contact." in body
    assert "SO-1" not in body and "SO-404" not in body


async def test_lookups_are_limited_per_address_and_per_order_number(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        answers = [(await lookup(client, "SO-1", "wrong@x.example"))[0] for _ in range(6)]
        status, headers, body = await lookup(client, "SO-1", CONTACT_EMAIL)
        # Another order from the same address still gets its (limited) tries.
        other = await lookup(client, "SO-2", "wrong@x.example")
    assert answers[:5] == [404] * 5
    assert answers[5] == 429
    assert status == 429  # even the right contact, once too many were tried
    assert int(headers["retry-after"]) >= 1
    assert "Too many attempts" in body.decode() and 'action="/track"' in body.decode()
    assert other[0] == 404


async def test_one_order_number_is_limited_whatever_the_address(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        statuses = []
        for n in range(5):
            async with client.another(f"10.0.0.{n + 1}") as guest:
                statuses += [(await lookup(guest, "SO-1", "wrong@x.example"))[0] for _ in range(4)]
        async with client.another("10.0.1.1") as guest:
            limited = await lookup(guest, "SO-1", CONTACT_EMAIL)
            other = await lookup(guest, "SO-2", "wrong@x.example")
    # No address tried more than 4 times, but the order number was tried 20 times.
    assert statuses == [404] * 20
    assert limited[0] == 429 and int(limited[1]["retry-after"]) >= 1
    assert other[0] == 404


async def test_a_signed_link_works_until_it_expires_and_a_forged_one_never(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    config = settings(database_url)
    now = datetime.now(UTC)
    good = tracking.tracking_url(config, "SO-1", now)
    assert good.startswith("https://testserver.local/track/")
    token = unquote(good.rsplit("/", 1)[1])
    old = tracking.tracking_path(config, "SO-1", now - timedelta(days=31))
    other_secret = tracking.tracking_path(
        settings(database_url, secret_key="another-secret-of-another-portal-0123456789"),
        "SO-1",
        now,
    )
    header, _claims, signature = token.split(".")
    forged_claims = tracking.tracking_token(config, "SO-9", now).split(".")[1]
    async with portal(database_url, as_user=None) as client:
        works = await client.get(f"/track/{token}", headers=EN)
        expired = await client.get(old, headers=EN)
        forged = await client.get(other_secret, headers=EN)
        swapped = await client.get(f"/track/{header}.{forged_claims}.{signature}", headers=EN)
        garbage = await client.get("/track/not-a-token", headers=EN)
    assert works.status_code == 200 and "BOLT-M8" in works.text
    assert expired.status_code == 410
    assert "This tracking link has expired" in expired.text
    for answer in (forged, swapped, garbage):
        assert answer.status_code == 404
        assert "This tracking link is not valid" in answer.text
        assert "BOLT-M8" not in answer.text and "WASHER" not in answer.text
    assert TEST_SECRET_KEY not in good


async def test_the_lookup_page_speaks_chinese(db: Database, database_url: str) -> None:
    await tell_the_story(db)
    async with portal(database_url, as_user=None) as client:
        page = await client.get("/track", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert re.search(r'<input id="track-number" name="number"', page.text)
