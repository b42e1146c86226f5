"""Domain errors in the reader's language: every message is a literal English template that
`pybabel extract` finds, its Chinese translation keeps the same placeholders, and `explain`
fills the translation (nested errors too) or falls back to English."""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter

from babel.messages.pofile import read_po
from babel.support import NullTranslations

from portal.domain.errors import Conflict, DomainError, NotFound, Phrase, in_context
from portal.i18n import CATALOGS
from portal.web.i18n import I18n

ROOT = Path(__file__).parents[2]
MESSAGES = {"DomainError", "NotFound", "Conflict", "Phrase"}


def placeholders(template: str) -> list[tuple[str, str | None, str | None]]:
    return sorted(
        (name, conversion, spec)
        for _, name, spec, conversion in Formatter().parse(template)
        if name is not None
    )


def test_every_message_is_a_literal_template() -> None:
    """An f-string or a variable as the message would escape extraction, and so translation."""
    escaped = []
    # errors.py itself passes templates on (in_context, check_version): it holds no message.
    for path in sorted(set((ROOT / "portal").rglob("*.py")) - {ROOT / "portal/domain/errors.py"}):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            position = 1 if name == "in_context" else 0
            if name not in MESSAGES | {"in_context"} or len(node.args) <= position:
                continue
            message = node.args[position]
            if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
                escaped.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not escaped, f"messages that are not literal templates: {escaped}"


def test_chinese_translations_keep_the_placeholders() -> None:
    with (CATALOGS / "zh_CN/LC_MESSAGES/messages.po").open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    differing = [
        message.id
        for message in catalog
        if isinstance(message.id, str)
        and "python-brace-format" in message.flags
        and message.string
        and placeholders(message.id) != placeholders(str(message.string))
    ]
    assert not differing, f"translations with other placeholders than their msgid: {differing}"


def test_the_english_message_is_the_filled_template() -> None:
    error = Conflict(
        "{what} was changed.", 4, what=Phrase("Purchase order {number}", number="PO-1")
    )
    assert error.message == str(error) == "Purchase order PO-1 was changed."
    assert error.current_version == 4
    # Without values the template is the message as it is, braces and all.
    assert DomainError("Use {curly} braces.").message == "Use {curly} braces."


def test_explain_translates_the_error_and_the_errors_inside_it() -> None:
    inner = NotFound("Purchase order {number} has no line {line_no}.", number="PO-7", line_no=3)
    error = in_context(inner, "Purchase order {number}: {error}", number="PO-7")
    assert isinstance(error, NotFound)
    assert error.message == "Purchase order PO-7: Purchase order PO-7 has no line 3."
    chinese = I18n("zh_CN", "Asia/Shanghai").explain(error)
    assert chinese == "采购订单 PO-7：采购订单 PO-7 没有第 3 行。"  # noqa: RUF001
    assert I18n("en", "UTC").explain(error) == error.message


class Broken(NullTranslations):
    def gettext(self, message: str) -> str:
        return "第 {line} 行"


def test_a_broken_translation_falls_back_to_english() -> None:
    i18n = I18n("zh_CN", "UTC")
    i18n.translations = Broken()
    error = DomainError("Line {line_no} needs an item code.", line_no=2)
    assert i18n.explain(error) == "Line 2 needs an item code."
