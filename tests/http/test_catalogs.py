"""The message catalogs: compiled files up to date, every UI string translated into Chinese,
and words for every code the domain stores."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.domain.events import EventKind
from portal.domain.orders import REASON_CODES
from portal.domain.states import POStatus, SOStatus
from portal.i18n import CATALOGS, LOCALES, labels

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_its_source(locale: str) -> None:
    folder = CATALOGS / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as source:
        compiled = BytesIO()
        write_mo(compiled, read_po(source, locale=locale))
    assert compiled.getvalue() == (folder / "messages.mo").read_bytes(), (
        f"{folder}/messages.mo is out of date: run `pybabel compile -d portal/i18n`"
    )


def test_every_ui_string_has_a_chinese_translation() -> None:
    with (ROOT / "portal/i18n/babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), method_map, options_map)
    }
    with (CATALOGS / "zh_CN/LC_MESSAGES/messages.po").open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    missing = sorted(
        msgid
        for msgid in extracted
        if not (message := catalog.get(msgid)) or not message.string or message.fuzzy
    )
    assert not missing, f"untranslated in zh_CN (see portal/i18n/__init__.py): {missing}"


def test_every_stored_code_has_words() -> None:
    assert {status.value for status in POStatus} <= labels.PO_STATUSES.keys()
    assert {"partially_shipped", "partially_received"} <= labels.PO_STATUSES.keys()
    assert {status.value for status in SOStatus} == labels.SO_STATUSES.keys()
    assert {kind.value for kind in EventKind} == labels.EVENT_KINDS.keys()
    assert set(REASON_CODES) == labels.REASONS.keys()
