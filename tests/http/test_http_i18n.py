"""The reader's language: `?lang=`, then the `lang` cookie, then the signed-in person's own
preference, then Accept-Language, then the portal's default (zh_CN)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from http_story import ACME_USER, add_organisations, portal, prefer, tell_the_story
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.db.database import Database
from portal.web.i18n import I18n, accept_language, choose_locale


async def test_chinese_from_accept_language(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})).text
    assert '<html lang="zh-CN">' in page
    assert "采购订单</a></h2>" in page
    assert "销售订单</a></h2>" in page
    assert "承诺交期" in page
    assert "已确认" in page  # acknowledged
    assert "已下达" in page  # issued
    assert "延误" in page  # late
    assert "2027年1月20日" in page


async def test_english_from_accept_language(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})).text
    assert '<html lang="en">' in page
    assert "Purchase orders</a></h2>" in page
    assert "采购订单" not in page


async def test_without_a_preference_the_default_locale(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/", headers={"Accept-Language": "de-DE"})).text
    assert '<html lang="zh-CN">' in page


async def test_default_locale_is_a_setting(db: Database, database_url: str) -> None:
    await add_organisations()
    async with portal(database_url, default_locale="en") as client:
        page = (await client.get("/")).text
    assert '<html lang="en">' in page


async def test_a_persons_own_language_and_time_zone_win_over_the_browser(
    db: Database, database_url: str
) -> None:
    await tell_the_story(db)
    await prefer(ACME_USER, locale="zh_CN", time_zone="Europe/Berlin")
    async with portal(database_url, as_user=ACME_USER, time_zone="UTC") as client:
        page = (await client.get("/purchase-orders/PO-1", headers={"Accept-Language": "en"})).text
        chosen = (await client.get("/purchase-orders/PO-1?lang=en")).text
    assert '<html lang="zh-CN">' in page
    assert "2026年3月2日 10:30" in page  # 09:30 UTC in Berlin
    assert "Europe/Berlin" in page
    assert '<html lang="en">' in chosen  # the page's own switch still wins


async def test_lang_parameter_wins_and_is_remembered(client: AsyncTestClient[Litestar]) -> None:
    chosen = await client.get("/purchase-orders/PO-1?lang=en", headers={"Accept-Language": "zh"})
    assert '<html lang="en">' in chosen.text
    assert "Promised date changed" in chosen.text
    assert "lang=en" in chosen.headers["set-cookie"]

    # The client keeps the cookie: the next page is English despite the browser's Chinese.
    later = await client.get("/sales-orders", headers={"Accept-Language": "zh"})
    assert '<html lang="en">' in later.text

    back = await client.get("/sales-orders?lang=zh_CN")
    assert '<html lang="zh-CN">' in back.text
    assert "lang=zh_CN" in back.headers["set-cookie"]


async def test_timeline_words_are_translated(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/purchase-orders/PO-1?lang=zh_CN")).text
    assert "时间线" in page
    assert "承诺交期已变更" in page  # line.promise_changed
    assert "采购订单已确认" in page  # po.acknowledged
    assert "产能不足" in page  # reason code capacity
    assert "操作人" in page  # by (the actor)
    assert "渠道" in page  # via
    assert "网页" in page  # web
    assert "2026年3月2日 17:30" in page


async def test_the_language_switch_keeps_the_page(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/purchase-orders?status=issued&lang=en")).text
    assert 'href="/purchase-orders?status=issued&amp;lang=zh_CN"' in page
    assert ">中文</a>" in page


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", ["zh-CN", "zh", "en"]),
        ("en;q=0.5, zh-TW;q=0.8, *;q=0.1", ["zh-TW", "en"]),
        ("fr;q=0, en", ["en"]),
        ("", []),
    ],
)
def test_accept_language_order(header: str, expected: list[str]) -> None:
    assert accept_language(header) == expected


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, "zh-TW,en;q=0.5", "zh_CN"),
        (None, None, "en-US", "en"),
        (None, None, "ja", "en"),
        (None, "en", "zh-CN", "en"),
        ("zh", "en", "en", "zh_CN"),
        ("klingon", None, "en", "en"),
    ],
)
def test_choose_locale(query: str | None, cookie: str | None, header: str, expected: str) -> None:
    assert choose_locale(query=query, cookie=cookie, header=header, default="en") == expected


def test_values_are_written_for_the_reader() -> None:
    zh = I18n("zh_CN", "Asia/Shanghai")
    en = I18n("en", "Europe/Berlin")
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert zh.datetime(moment) == "2027年1月1日 07:30"
    assert en.datetime(moment) == "Jan 1, 2027, 12:30\u202fAM"  # CLDR: a narrow space
    assert zh.date(date(2027, 1, 20)) == "2027年1月20日"
    assert en.date("2027-01-20") == "Jan 20, 2027"
    assert en.number(Decimal("1250.5000")) == "1,250.5"
    assert zh.status("partially_shipped") == "部分发货"
    assert zh.event_kind("line.expected_date_changed") == "预计交期已变更"
    assert en.status("a_status_from_the_future") == "a_status_from_the_future"
