"""argparse's own words ("usage:", "options", its error messages) in Vietnamese.

argparse looks every one of them up through its module-level ``_`` and ``ngettext`` (gettext) at the moment
it prints, so replacing those two names is the whole hook; English keeps argparse's own text.
"""

from __future__ import annotations

import argparse
import gettext

from canhgac.core.i18n import cli_language

#: argparse's message ids (Python 3.11) and their Vietnamese.
VIETNAMESE = {
    "usage: ": "cách dùng: ",
    "positional arguments": "đối số",
    "options": "tùy chọn",
    "show this help message and exit": "hiện trợ giúp này rồi thoát",
    "argument %(argument_name)s: %(message)s": "đối số %(argument_name)s: %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n",
    "the following arguments are required: %s": "thiếu các đối số bắt buộc: %s",
    "one of the arguments %s is required": "cần một trong các đối số %s",
    "unrecognized arguments: %s": "đối số không nhận ra: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "lựa chọn không hợp lệ: %(value)r (chọn một trong "
                                                           "%(choices)s)",
    "invalid %(type)s value: %(value)r": "giá trị %(type)s không hợp lệ: %(value)r",
    "expected one argument": "cần đúng một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn mơ hồ: %(option)s có thể là %(matches)s",
    "not allowed with argument %s": "không dùng cùng đối số %s",
    "ignored explicit argument %r": "bỏ qua giá trị %r",
    "unexpected option string: %s": "tùy chọn không mong đợi: %s",
    "can't open '%(filename)s': %(error)s": "không mở được '%(filename)s': %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "không có lệnh %(parser_name)r (chọn một trong "
                                                             "%(choices)s)",
}
PLURAL_VIETNAMESE = {"expected %s argument": "cần %s giá trị"}


def _translate(text: str) -> str:
    return VIETNAMESE.get(text, text) if cli_language() == "vi" else gettext.gettext(text)


def _translate_plural(singular: str, plural: str, count: int) -> str:
    if cli_language() == "vi" and singular in PLURAL_VIETNAMESE:
        return PLURAL_VIETNAMESE[singular]
    return gettext.ngettext(singular, plural, count)


def install() -> None:
    """From now on argparse speaks the command line's language (read each time it prints)."""
    argparse._ = _translate  # type: ignore[attr-defined]
    argparse.ngettext = _translate_plural  # type: ignore[attr-defined]
