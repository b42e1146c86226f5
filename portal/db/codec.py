"""JSON as stored in the plain JSON (text) columns: one spelling, so hashes can be recomputed."""

from __future__ import annotations

import json
from typing import Any


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load(value: Any) -> Any:
    if value is None or not isinstance(value, str | bytes):
        return value
    return json.loads(value)
