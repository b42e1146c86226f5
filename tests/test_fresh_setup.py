"""The README's first command, step by step, in a fresh copy of the project.

`make run` ends by serving for ever, so this runs its steps one by one: `make env` (creates the
pinned uv and the locked environment), `portal migrate`, `portal demo`, then `portal serve` in
the background until the home page answers with demo orders.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from auth_support import free_port, secure_cookie_client, sign_in

from portal.demo.catalog import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


async def _signed_in_home(base_url: str, email: str) -> str:
    async with secure_cookie_client(base_url) as client:
        page = await sign_in(client, email, DEMO_PASSWORD, next="/?lang=en")
        assert page.status_code == 200 and page.url.path == "/", page.text
        return page.text


def test_readme_first_command_steps_work_in_a_fresh_copy(tmp_path: Path) -> None:
    copy = tmp_path / "portal"
    for name in _project_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.pop("VIRTUAL_ENV", None)

    made = subprocess.run(
        ["make", "env"], cwd=copy, env=env, capture_output=True, text=True, timeout=600
    )
    assert made.returncode == 0, made.stdout + made.stderr
    portal = str(copy / ".venv" / "bin" / "portal")

    migrated = subprocess.run(
        [portal, "migrate"], cwd=copy, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert (copy / "var" / "portal.sqlite3").is_file()

    demo = subprocess.run(
        [portal, "demo"], cwd=copy, env=env, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    assert "@" in demo.stdout, "the demo sign-ins (e-mail addresses) are printed"

    port = free_port()
    server = subprocess.Popen(
        [portal, "serve", "--port", str(port)],
        cwd=copy,
        # Sign-in redirects to the base URL: the one users reach, here the free port.
        env={**env, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/health")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the portal did not start within 60 s"
                time.sleep(0.3)
        assert status == 200
        ready, _ = _get(f"http://127.0.0.1:{port}/ready")
        assert ready == 200
        anonymous_status, anonymous = _get(f"http://127.0.0.1:{port}/?lang=en")
        assert anonymous_status == 200 and 'action="/sign-in"' in anonymous
        assert "PO-" not in anonymous, "nobody reads orders without signing in"
        admin = next(
            words[0]
            for words in map(str.split, demo.stdout.splitlines())
            if len(words) > 1 and "@" in words[0] and words[1] == "admin"
        )
        home = asyncio.run(_signed_in_home(f"http://127.0.0.1:{port}", admin))
        assert "PO-" in home and "SO-" in home, "the home page lists the demo orders"
    finally:
        server.terminate()
        server.wait(timeout=20)
