"""Liveness and readiness, as a load balancer asks for them."""

from __future__ import annotations

from pathlib import Path

from http_story import portal

from portal.db.database import Database


async def test_health_answers_ok(db: Database, database_url: str) -> None:
    async with portal(database_url, as_user=None) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_on_a_migrated_database(db: Database, database_url: str) -> None:
    async with portal(database_url, as_user=None) as client:
        response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }


async def test_not_ready_while_migrations_are_pending(tmp_path: Path) -> None:
    empty = tmp_path / "never-migrated.sqlite3"
    empty.touch()
    async with portal(f"sqlite:///{empty}", as_user=None) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert "pending" in body["checks"]["migrations"]
    assert "portal migrate" in body["checks"]["migrations"]
