"""The order import tests use the page story of tests/http and the API world of tests/api."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
for folder in ("http", "api"):
    path = str(TESTS / folder)
    if path not in sys.path:
        sys.path.append(path)
