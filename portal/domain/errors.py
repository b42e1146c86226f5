"""Errors the domain raises. Their messages are written for the person who caused them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the business was broken; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it exists."""


class Conflict(DomainError):
    """The caller acted on a version of a record that is no longer current."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


def check_version(what: str, current: int, given: int) -> None:
    if given != current:
        raise Conflict(
            f"{what} was changed by someone else (you had version {given}, "
            f"it is now at version {current}); reload it and try again.",
            current_version=current,
        )
