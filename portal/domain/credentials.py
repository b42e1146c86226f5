"""Secrets the portal hands out (client secrets, codes, refresh tokens, session ids, one-time
links, sign-in states) and how they are kept: as SHA-256 hex digests. They are long random
strings, so a digest cannot be reversed, and a stolen copy of the database signs nobody in."""

from __future__ import annotations

import hashlib
import secrets


def digest(secret: str) -> str:
    """How a secret is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)
