"""Time helpers: fast log-time parsing (no ``strptime`` on the hot path) and local display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MONTHS = {name: index for index, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_CACHE_LIMIT = 4096
_clf_cache: dict[str, str] = {}


def clf_to_utc_iso(text: str) -> str:
    """``10/Oct/2026:13:55:36 +0700`` (the nginx/Apache time) → ``2026-10-10T06:55:36.000Z``.

    Access logs repeat the same second many times, so results are cached.
    """
    cached = _clf_cache.get(text)
    if cached is not None:
        return cached
    try:
        day, month, year = int(text[0:2]), MONTHS[text[3:6]], int(text[7:11])
        hour, minute, second = int(text[12:14]), int(text[15:17]), int(text[18:20])
        zone = text[21:26] if len(text) >= 26 else ""
        if zone:
            sign = -1 if zone[0] == "-" else 1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
            tz: timezone | ZoneInfo = timezone(offset)
        else:
            tz = VIETNAM
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz).astimezone(UTC)
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"not a log time: {text!r}") from None
    result = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if len(_clf_cache) >= _CACHE_LIMIT:
        _clf_cache.clear()
    _clf_cache[text] = result
    return result


def syslog_to_utc_iso(text: str, *, year: int, tz: ZoneInfo | timezone = VIETNAM) -> str:
    """``Nov 22 15:04:05`` (RFC 3164, no year or zone) → UTC ISO, taking the zone as local time."""
    try:
        month = MONTHS[text[0:3]]
        day = int(text[4:6])
        hour, minute, second = int(text[7:9]), int(text[10:12]), int(text[13:15])
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz).astimezone(UTC)
    except (KeyError, ValueError, IndexError):
        raise ValueError(f"not a syslog time: {text!r}") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def local_display(moment: datetime) -> str:
    """How times are shown to people: Asia/Ho_Chi_Minh, day first."""
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S (GMT+7)")
