"""The reader's language and time zone: which locale a request gets, and how values read in it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import negotiate_locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations

from portal.domain.errors import DomainError, Phrase, fill
from portal.domain.orders import reason_catalog, reason_codes
from portal.i18n import LOCALES, labels, translations

LANG_PARAM = "lang"
"""`?lang=en` picks the language for this request and, through the cookie, the next ones."""
LANG_COOKIE = "lang"

_STATUSES = labels.PO_STATUSES | labels.SO_STATUSES

_CANONICAL = {code.lower(): code for code in LOCALES} | {"zh": "zh_CN"}
"""A bare `zh` (and zh-TW, zh-Hans-CN, ... through it) reads the one Chinese catalog we have."""


def match_locale(preferred: Iterable[str]) -> str | None:
    """The first of `preferred` (BCP 47 or POSIX spelling) the portal speaks, as in LOCALES."""
    found = negotiate_locale(
        [tag.strip().replace("-", "_") for tag in preferred if tag.strip()], list(_CANONICAL)
    )
    return _CANONICAL.get(found.lower()) if found else None


def accept_language(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0 means never)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose_locale(
    *,
    query: str | None,
    cookie: str | None,
    header: str | None,
    default: str,
    preferred: str | None = None,
) -> str:
    """`?lang=` first, then the `lang` cookie, then the signed-in user's preference, then
    Accept-Language, then the default."""
    for chosen in (query, cookie, preferred):
        if chosen and (locale := match_locale([chosen])):
            return locale
    return (match_locale(accept_language(header)) if header else None) or default


class I18n:
    """One request's language and time zone: its translations, and values written for it."""

    def __init__(self, code: str, time_zone: str, *, remember: bool = False) -> None:
        self.code = code
        self.locale = Locale.parse(code)
        self.time_zone = ZoneInfo(time_zone)
        self.translations: NullTranslations = translations(code)
        self.remember = remember
        """The reader picked the language in the URL: the response keeps it in a cookie."""

    @property
    def html_lang(self) -> str:
        return self.code.replace("_", "-")

    def gettext(self, message: str) -> str:
        return str(self.translations.gettext(message))

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return str(self.translations.ngettext(singular, plural, count))

    def explain(self, error: DomainError | Phrase) -> str:
        """A domain error's message in the reader's language (the Phrases and errors among its
        values too); in English where the catalog has no translation or a broken one."""
        values = {
            name: self.explain(value) if isinstance(value, DomainError | Phrase) else value
            for name, value in error.params.items()
        }
        try:
            return fill(self.gettext(error.template), values)
        except (KeyError, IndexError, ValueError):
            # A translator's typo in a placeholder must not turn a refusal into a server error.
            return str(error)

    def date(self, value: date | str | None) -> str:
        """A day, e.g. 2026年12月1日 / Dec 1, 2026; ISO text (as in event data) is accepted."""
        if value is None or value == "":
            return ""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return str(format_date(day, "medium", locale=self.locale))

    def datetime(self, value: datetime | str) -> str:
        """A moment in the portal's time zone, to the minute."""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        local = moment.astimezone(self.time_zone)
        pattern = str(self.locale.datetime_formats["medium"])
        return pattern.format(
            format_time(local, "short", locale=self.locale),
            format_date(local.date(), "medium", locale=self.locale),
        )

    def number(self, value: Decimal | int | str) -> str:
        # Quantities carry up to four decimals; trailing zeros say nothing to a reader.
        return str(format_decimal(Decimal(value), "#,##0.####", locale=self.locale))

    def money(self, value: Decimal | str, currency: str) -> str:
        return str(format_currency(Decimal(value), currency, locale=self.locale))

    def _label(self, words: Mapping[str, str], code: str) -> str:
        # A code without words yet (a newer domain than this UI) is shown as it is stored.
        return self.gettext(words[code]) if code in words else code

    def status(self, code: str) -> str:
        return self._label(_STATUSES, code)

    def event_kind(self, code: str) -> str:
        return self._label(labels.EVENT_KINDS, code)

    def reason(self, code: str) -> str:
        # An admin's own words for the code (portal.db.reason_store), in the reader's language.
        own = reason_catalog().labels.get(code)
        if own is not None:
            english, chinese = own
            return (chinese if self.code.startswith("zh") else english) or english or code
        return self._label(labels.REASONS, code)

    def reasons(self) -> list[tuple[str, str]]:
        """The reason codes in use, each with its label: the choices of a reason drop-down."""
        return [(code, self.reason(code)) for code in reason_codes()]

    def decision(self, code: str) -> str:
        return self._label(labels.DECISIONS, code)

    def change_kind(self, code: str) -> str:
        return self._label(labels.CHANGE_KINDS, code)

    def cause(self, code: str) -> str:
        return self._label(labels.CAUSES, code)

    def via(self, code: str) -> str:
        return self._label(labels.VIA, code)
