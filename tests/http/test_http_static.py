"""The vendored front-end files are served from /static, as the pages reference them."""

from __future__ import annotations

from pathlib import Path

from http_story import portal

from portal.db.database import Database

VENDOR = Path(__file__).parents[2] / "static" / "vendor"


async def test_vendored_htmx_and_sse_and_css_are_served(db: Database, database_url: str) -> None:
    async with portal(database_url, as_user=None) as client:
        htmx = await client.get("/static/vendor/htmx.min.js")
        sse = await client.get("/static/vendor/htmx-ext-sse.min.js")
        css = await client.get("/static/css/portal.css")
        missing = await client.get("/static/vendor/nothing.js")
    assert htmx.status_code == 200
    assert "javascript" in htmx.headers["content-type"]
    assert 'version:"2.0.11"' in htmx.text
    assert sse.status_code == 200
    assert 'defineExtension("sse"' in sse.text
    assert css.status_code == 200
    assert ".late" in css.text
    assert missing.status_code == 404


def test_versions_file_names_every_vendored_script() -> None:
    versions = (VENDOR / "VERSIONS.txt").read_text()
    for script in VENDOR.glob("*.js"):
        assert script.name in versions
    assert "htmx.org         2.0.11" in versions
    assert "htmx-ext-sse     2.2.4" in versions
