"""The export tests use the page story of tests/http."""

from __future__ import annotations

import sys
from pathlib import Path

HTTP = str(Path(__file__).resolve().parent.parent / "http")
if HTTP not in sys.path:
    sys.path.append(HTTP)
