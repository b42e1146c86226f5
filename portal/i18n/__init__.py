r"""Message catalogs: `<locale>/LC_MESSAGES/messages.po` (source) and `.mo` (compiled, committed).

Refresh them after changing any UI string (run from the repository root):

    pybabel extract -F portal/i18n/babel.cfg -o portal/i18n/messages.pot \
        --project=portal --version=0.1.0 --no-wrap .
    pybabel update -i portal/i18n/messages.pot -d portal/i18n \
        --no-fuzzy-matching --no-wrap --ignore-obsolete
    (translate the new entries in portal/i18n/zh_CN/LC_MESSAGES/messages.po)
    pybabel compile -d portal/i18n --statistics

English is the language of the msgids, so the `en` catalog stays untranslated on purpose.
tests/http/test_catalogs.py fails when a string is untranslated or a .mo file is stale.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

CATALOGS = Path(__file__).parent
DOMAIN = "messages"
LOCALES: tuple[str, ...] = ("zh_CN", "en")
"""The languages the portal speaks. English is the language of the msgids."""


@cache
def translations(locale: str) -> NullTranslations:
    if locale not in LOCALES:
        raise ValueError(f"no message catalog for {locale!r}; the portal speaks {LOCALES}")
    return Translations.load(str(CATALOGS), [locale], DOMAIN)
