"""Passwords: Argon2id hashes (argon2-cffi's defaults), checked in a worker thread so a slow
hash never stalls the event loop."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.domain.errors import DomainError

MIN_LENGTH = 10

_hasher = PasswordHasher()

DUMMY_HASH = _hasher.hash("a password nobody has, to spend the same time")
"""Verified against when the e-mail is unknown, so a wrong e-mail takes as long as a wrong
password and the answer does not tell which accounts exist."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """False for a wrong password, and for an account that has no password (yet)."""
    try:
        return _hasher.verify(password_hash or DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)


def check_password_rules(password: str, email: str = "") -> None:
    """Raises DomainError saying what is wrong with a new password."""
    if len(password) < MIN_LENGTH:
        raise DomainError(
            "A password needs at least {min_length} characters.", min_length=MIN_LENGTH
        )
    if email and password.strip().lower() == email.strip().lower():
        raise DomainError("A password cannot be your e-mail address.")
