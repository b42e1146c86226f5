"""`portal import`: the same checks and creation from the command line, all or none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portal.db import tables as t
from portal.db.database import Database

HEADER = "Order no,Supplier,Currency,Line no,Item,Quantity,Unit,Unit price,Need date\n"


def portal(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env={"PORTAL_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_the_command_line_imports_all_or_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await t.Organisation.insert(
        t.Organisation(code="HOME", name="Our Company", kind="internal"),
        t.Organisation(code="ACME", name="Acme", kind="supplier"),
    ).run()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "CLI-1,ACME,CNY,1,M8,5,pcs,1,2027-03-01\nCLI-2,ACME,CNY,1,M8,x,pcs,1,2027-03-01\n"
    )
    refused = portal("import", "--kind", "purchase_orders", str(bad), url=database_url)
    assert refused.returncode != 0
    assert "row 3:" in refused.stderr and "nothing was imported" in refused.stderr
    assert await t.PurchaseOrder.count().run() == 0
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "CLI-1,ACME,CNY,1,M8,5,pcs,1,2027-03-01\n")
    done = portal("import", "--kind", "purchase_orders", str(good), url=database_url)
    assert done.returncode == 0, done.stderr
    assert "imported 1 orders with 1 lines" in done.stdout
    assert await t.PurchaseOrder.count().run() == 1
    assert (
        await t.Event.count().where(t.Event.via == "import").run() == 3
    )  # created, issued, completed
