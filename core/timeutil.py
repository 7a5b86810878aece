"""Time helpers shared by every stage: the local zone, month names, and how times are shown to people.

Parsing log times lives with the parsers (``collectors/parsers/times.py``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MONTHS = {name: index for index, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}


def local_display(moment: datetime) -> str:
    """How times are shown to people: Asia/Ho_Chi_Minh, day first."""
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S (GMT+7)")
