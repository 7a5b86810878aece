"""Log times → ``YYYY-MM-DDTHH:MM:SS.mmmZ`` without ``strptime``.

Lines of one log share their minute, so the expensive part (calendar and zone arithmetic) is done once per
minute and cached; each line only slices and concatenates. Zone offsets are whole minutes, so adding the
seconds to a converted minute never carries. Times without a zone are in the source's zone
(Asia/Ho_Chi_Minh unless configured otherwise).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from canhgac.core.timeutil import MONTHS, VIETNAM

_CACHE_LIMIT = 8192
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Times:
    """Time parsing for one source zone. Raises ``ValueError`` for anything that is not a valid time."""

    def __init__(self, zone: tzinfo = VIETNAM) -> None:
        self.zone = zone
        self._minutes: dict[str, str] = {}
        self._seconds: dict[int, str] = {}
        self._clf: dict[str, str] = {}
        self._bsd: dict[str, str] = {}
        self._year_tick = -1
        self._year = (0, "")

    # the cached minute ------------------------------------------------------------------------
    def _minute(self, key: str, year: int, month: int, day: int, hour: int, minute: int,
                offset: str) -> str:
        """``YYYY-MM-DDTHH:MM:`` in UTC for a local minute; ``offset`` is ``Z``, ``±HH:MM``/``±HHMM``/``±HH`` or
        empty (the source zone)."""
        try:
            zone = self.zone if not offset else _offset_zone(offset)
            moment = datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)
        except (OverflowError, KeyError) as exc:
            raise ValueError(str(exc)) from None
        if not 1 <= moment.year <= 9999:
            raise ValueError("year out of range")
        prefix = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        if len(self._minutes) >= _CACHE_LIMIT:
            self._minutes.clear()
        self._minutes[key] = prefix
        return prefix

    # ISO 8601 / RFC 3339 ----------------------------------------------------------------------
    def iso(self, text: str) -> str:
        """``2026-11-22T15:04:05[.123456][Z|+07:00|+0700]``, also with a space for the ``T``."""
        if len(text) < 19 or text[4] != "-" or text[7] != "-" or text[13] != ":" or text[16] != ":" \
                or text[10] not in "T t":
            raise ValueError(f"not an ISO 8601 time: {text[:40]!r}")
        rest = text[19:]
        millis = "000"
        if rest and rest[0] in ".,":
            end = 1
            while end < len(rest) and rest[end].isdigit():
                end += 1
            if end == 1:
                raise ValueError(f"not an ISO 8601 time: {text[:40]!r}")
            millis = (rest[1:end] + "00")[:3]
            rest = rest[end:]
        if rest and not _valid_offset(rest):
            raise ValueError(f"not an ISO 8601 zone: {rest[:10]!r}")
        return self._from_parts(text[:16], rest, text[17:19], millis, text)

    def _from_parts(self, minute_text: str, offset: str, second: str, millis: str, text: str) -> str:
        key = minute_text + offset
        prefix = self._minutes.get(key)
        if prefix is None:
            if not (minute_text[0:4].isdigit() and minute_text[5:7].isdigit() and minute_text[8:10].isdigit()
                    and minute_text[11:13].isdigit() and minute_text[14:16].isdigit()):
                raise ValueError(f"not a time: {text[:40]!r}")
            prefix = self._minute(key, int(minute_text[0:4]), int(minute_text[5:7]), int(minute_text[8:10]),
                                  int(minute_text[11:13]), int(minute_text[14:16]), offset)
        if len(second) != 2 or not second.isdigit() or second > "60":
            raise ValueError(f"not a time: {text[:40]!r}")
        if second == "60":  # a leap second, which neither Python nor Elasticsearch represent
            second, millis = "59", "999"
        return f"{prefix}{second}.{millis}Z"

    def parts(self, year: str, month: str, day: str, clock: str, offset: str = "", millis: str = "000") -> str:
        """From separate fields (``2026``, ``11``, ``22``, ``15:04:05``), e.g. FortiGate ``date=`` ``time=``."""
        if len(year) != 4 or len(month) != 2 or len(day) != 2 or len(clock) != 8 or clock[2] != ":" \
                or clock[5] != ":":
            raise ValueError(f"not a time: {year}-{month}-{day} {clock}")
        if offset and not _valid_offset(offset):
            raise ValueError(f"not a zone: {offset!r}")
        return self._from_parts(f"{year}-{month}-{day}T{clock[:5]}", offset, clock[6:8], millis, clock)

    # BSD syslog (RFC 3164): "Nov 22 15:04:05", no year, no zone ---------------------------------
    def syslog(self, text: str, now: datetime | None = None) -> str:
        if now is None:
            cached = self._bsd.get(text)
            if cached is not None:
                return cached
        result = self._syslog(text, now)
        if now is None:
            if len(self._bsd) >= _CACHE_LIMIT:
                self._bsd.clear()
            self._bsd[text] = result
        return result

    def _syslog(self, text: str, now: datetime | None) -> str:
        month = MONTHS.get(text[0:3])
        if month is None or len(text) != 15 or text[3] != " " or text[6] != " ":
            raise ValueError(f"not a syslog time: {text!r}")
        day = text[4:6].strip()
        if not day.isdigit():
            raise ValueError(f"not a syslog time: {text!r}")
        year, limit = self._syslog_year(now)
        result = self._from_parts(f"{year:04d}-{month:02d}-{int(day):02d}T{text[7:12]}", "", text[13:15], "000", text)
        if result > limit:  # December's lines read in January belong to last year
            result = self._from_parts(f"{year - 1:04d}-{month:02d}-{int(day):02d}T{text[7:12]}", "", text[13:15],
                                      "000", text)
        return result

    def _syslog_year(self, now: datetime | None) -> tuple[int, str]:
        """The current year and the latest plausible time (two days ahead, for clock skew), kept a minute."""
        if now is not None:
            return now.year, (now + timedelta(days=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.999Z")
        tick = int(time.monotonic() // 60)
        if self._year_tick != tick:
            current = datetime.now(UTC)
            self._year = (current.year, (current + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.999Z"))
            self._year_tick = tick
        return self._year

    # epoch numbers ----------------------------------------------------------------------------
    def epoch(self, value: float | int | str, unit: str = "s") -> str:
        """Seconds, milliseconds, microseconds or nanoseconds since 1970 (``unit``: s, ms, us, ns)."""
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, bool) or number != number:
            raise ValueError(f"not an epoch time: {value!r}")
        scale = _UNITS[unit]
        total_ms = number * 1000 // scale if isinstance(number, int) else int(number * 1000 / scale)
        whole, millis = divmod(total_ms, 1000)
        prefix = self._seconds.get(whole)
        if prefix is None:
            try:
                moment = _EPOCH + timedelta(seconds=whole)
            except OverflowError:
                raise ValueError(f"epoch time out of range: {value!r}") from None
            if moment.year < 1:
                raise ValueError(f"epoch time out of range: {value!r}")
            prefix = moment.strftime("%Y-%m-%dT%H:%M:%S.")
            if len(prefix) != 20:
                raise ValueError(f"epoch time out of range: {value!r}")
            if len(self._seconds) >= _CACHE_LIMIT:
                self._seconds.clear()
            self._seconds[whole] = prefix
        return f"{prefix}{millis:03d}Z"

    # Common Log Format: "22/Nov/2026:15:04:05 +0700" --------------------------------------------
    def clf(self, text: str) -> str:
        # Access logs repeat each second many times; the whole text is the cache key.
        cached = self._clf.get(text)
        if cached is not None:
            return cached
        result = self._clf_parse(text)
        if len(self._clf) >= _CACHE_LIMIT:
            self._clf.clear()
        self._clf[text] = result
        return result

    def _clf_parse(self, text: str) -> str:
        month = MONTHS.get(text[3:6])
        if month is None or len(text) < 20 or text[2] != "/" or text[6] != "/" or text[11] != ":":
            raise ValueError(f"not a log time: {text[:40]!r}")
        offset = text[21:] if len(text) > 20 else ""
        if len(text) > 20 and text[20] != " ":
            raise ValueError(f"not a log time: {text[:40]!r}")
        return self._from_parts(f"{text[7:11]}-{month:02d}-{text[0:2]}T{text[12:17]}", offset, text[18:20], "000",
                                text)


_UNITS = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}
_zones: dict[str, timezone] = {}


def _valid_offset(text: str) -> bool:
    if text == "Z" or text == "z":
        return True
    if text[0] not in "+-":
        return False
    digits = text[1:].replace(":", "", 1)
    return len(digits) in (2, 4) and digits.isdigit() and (len(text) != 6 or text[3] == ":")


def _offset_zone(text: str) -> timezone:
    zone = _zones.get(text)
    if zone is None:
        if text in ("Z", "z"):
            zone = UTC
        else:
            digits = text[1:].replace(":", "")
            delta = timedelta(hours=int(digits[0:2]), minutes=int(digits[2:4] or 0))
            zone = timezone(-delta if text[0] == "-" else delta)
        _zones[text] = zone
    return zone


def zone_named(name: str | None) -> tzinfo:
    """The zone a source's zone-less times are in: a name like ``Asia/Ho_Chi_Minh`` or ``UTC``."""
    if name is None:
        return VIETNAM
    if name.upper() == "UTC":
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
