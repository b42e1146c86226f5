"""Errors the domain raises. Their messages are written for the person who caused them.

A message is an English `str.format` template and its values, kept apart so that the web layer
can show it in the reader's language (`I18n.explain`): the template is the msgid
(`pybabel extract` finds it through the keywords in portal/i18n/babel.cfg), the values are
filled in after translating. `message` and `str()` give the English text."""

from __future__ import annotations

from typing import Any


class Phrase:
    """Words that are part of a message, e.g. what a version conflict is about: translated with
    the message that holds them."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return fill(self.template, self.params)


class DomainError(Exception):
    """A rule of the business was broken; nothing was changed.

    `params` may hold a Phrase or another DomainError (an error put in context, e.g. "Purchase
    order {number}: {error}"): each is translated in turn."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params
        self.message = fill(template, params)
        super().__init__(self.message)


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it exists."""


class Conflict(DomainError):
    """The caller acted on a version of a record that is no longer current."""

    def __init__(self, template: str, /, current_version: int, **params: Any) -> None:
        super().__init__(template, **params)
        self.current_version = current_version


def in_context(error: DomainError, template: str, /, **params: Any) -> DomainError:
    """`error` told with what it is about, e.g. "Purchase order {number}: {error}": of the same
    kind (a missing record stays NotFound), with the error itself as the `error` value."""
    if isinstance(error, Conflict):
        return Conflict(template, error.current_version, error=error, **params)
    return type(error)(template, error=error, **params)


def fill(template: str, params: dict[str, Any]) -> str:
    # A template without values is taken as it is, so that braces in it need no escaping.
    return template.format(**params) if params else template


def check_version(what: Phrase, current: int, given: int) -> None:
    if given != current:
        raise Conflict(
            "{what} was changed by someone else (you had version {given}, "
            "it is now at version {current}); reload it and try again.",
            current_version=current,
            what=what,
            given=given,
            current=current,
        )
