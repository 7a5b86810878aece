"""Option types the commands share: time points (``24h`` ago or an ISO time) and repeatable comma lists."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from canhgac.core.i18n import pick
from canhgac.core.model import utcnow
from canhgac.core.timeutil import VIETNAM

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(pick(f"không phải khoảng thời gian: {text!r} (ví dụ 30m, 24h, 7d)",
                                              f"not a duration: {text!r} (use e.g. 30m, 24h, 7d)"))
    return timedelta(**{_UNIT[match.group(2)]: float(match.group(1))})


def time_point(text: str) -> datetime:
    """A moment in UTC: that long ago (``24h``, ``7d``), or an ISO 8601 date or time; a time without a zone
    is Vietnam's, as people there read it."""
    text = text.strip()
    if _DURATION.match(text):
        return utcnow() - duration(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(pick(
            f"không phải thời điểm: {text!r} (ví dụ 24h, 7d, 2026-11-22 hoặc 2026-11-22T08:00+07:00)",
            f"not a time: {text!r} (use e.g. 24h, 7d, 2026-11-22 or 2026-11-22T08:00+07:00)")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(UTC)


class CommaList(argparse.Action):
    """``--state new,acknowledged --state closed``: every value of every use, each checked against
    ``choices``; the result is a list in the order given, without repeats."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, allowed: Sequence[str],
                 **kwargs: Any) -> None:
        self.allowed = list(allowed)
        kwargs.setdefault("metavar", ",".join(self.allowed[:2]) + ",…")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        chosen = list(getattr(namespace, self.dest, None) or [])
        for value in str(values).split(","):
            value = value.strip()
            if not value:
                continue
            if value not in self.allowed:
                raise argparse.ArgumentError(self, pick(
                    f"không có giá trị {value!r} (chọn trong {', '.join(self.allowed)})",
                    f"no such value {value!r} (choose from {', '.join(self.allowed)})"))
            if value not in chosen:
                chosen.append(value)
        setattr(namespace, self.dest, chosen)
