"""From raw lines to events: decode, parse, normalise, and stamp the fields every event carries.

Every non-blank input becomes exactly one event or one dead letter (directives such as IIS ``#Fields:``
are counted apart). Nothing a parser does with a bad line can stop the decoder.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from canhgac.collectors.enrich import Enricher
from canhgac.collectors.parsers import Parser
from canhgac.collectors.parsers.base import StatefulParser
from canhgac.collectors.raw import RawLine
from canhgac.core.errors import ParseError
from canhgac.core.model import DeadLetter, Event, to_utc_iso, utcnow

__all__ = ["MAX_LINE_BYTES", "DecodeStats", "LineDecoder", "Origin", "RawLine"]
MAX_LINE_BYTES = 64 * 1024
#: How far ahead of its arrival an event's own time may be (clock skew); beyond it the time is not believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
log = logging.getLogger(__name__)
_blake2b = hashlib.blake2b


@dataclass
class DecodeStats:
    lines: int = 0
    events: int = 0
    dead_letters: int = 0
    blank: int = 0
    directives: int = 0
    flagged: dict[str, int] = field(default_factory=dict)

    def add(self, other: DecodeStats) -> None:
        self.lines += other.lines
        self.events += other.events
        self.dead_letters += other.dead_letters
        self.blank += other.blank
        self.directives += other.directives
        for tag, count in other.flagged.items():
            self.flagged[tag] = self.flagged.get(tag, 0) + count


@dataclass(frozen=True)
class Origin:
    """Where lines come from and whom they belong to."""

    stream: str  # the logical stream name that makes event ids stable (a file: the live file's absolute path)
    path: str  # where operators find the line (a file path, ``syslog://10.0.0.5``, ``http:fluent-bit``)
    agency: str | None  # None: nobody's lines, every one a dead letter (what a line names never says whose it is)
    system: str | None = None  # None: per event, the system of ``agency`` named by the line's host or server address
    unowned: str | None = None  # why an origin without an agency has none, for its dead letters


class LineDecoder:
    def __init__(self, parser: Parser, origin: Origin, enricher: Enricher | None = None) -> None:
        self.parser = parser
        self.origin = origin
        self.enricher = enricher
        self.stats = DecodeStats()
        self.max_bytes: int = getattr(parser, "max_bytes", MAX_LINE_BYTES)
        make_framer = getattr(parser, "framer", None)
        self.framer = make_framer() if callable(make_framer) else None
        self._common: dict[str, Any] = {**parser.static_fields, "log.file.path": origin.path}
        if origin.agency is not None:
            self._common["organization.id"] = origin.agency
        if origin.system is not None:
            self._common["service.id"] = origin.system
        self._id_prefix = origin.stream.encode() + b"\0"
        self._resolve = enricher is not None and origin.system is None
        self._forwarded = enricher is not None and bool(enricher.trusted_proxies)

    # checkpoint support -----------------------------------------------------------------------------
    def resume_offset(self, read_offset: int) -> int:
        """Where to resume reading so that nothing handed out so far is skipped: the start of a record the
        framer still holds, else where reading stopped."""
        pending = self.framer.pending_offset() if self.framer is not None else None
        return read_offset if pending is None else pending

    def snapshot(self) -> dict[str, Any] | None:
        return self.parser.snapshot() if isinstance(self.parser, StatefulParser) else None

    def restore(self, state: dict[str, Any] | None) -> None:
        if state and isinstance(self.parser, StatefulParser):
            self.parser.restore(state)

    # decoding ---------------------------------------------------------------------------------------
    def decode(self, lines: Sequence[RawLine], *, final: bool = False) -> tuple[list[Event], list[DeadLetter]]:
        if self.framer is not None:
            lines = self.framer.feed(lines) + (self.framer.flush() if final else [])
        events: list[Event] = []
        letters: list[DeadLetter] = []
        stats = self.stats
        parse, common, prefix, max_bytes = self.parser.parse, self._common, self._id_prefix, self.max_bytes
        forwarded = self._forwarded
        check_owner = self._resolve or "organization.id" not in common
        now = utcnow()
        ingested = to_utc_iso(now)
        future = to_utc_iso(now + FUTURE_TOLERANCE)
        stats.lines += len(lines)
        keep = events.append
        for line in lines:
            raw, offset = line.data, line.offset
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if not raw or raw.isspace():
                stats.blank += 1
                continue
            tags: list[str] | None = None
            if len(raw) > max_bytes:
                raw = raw[:max_bytes]
                tags = ["truncated"]
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                text = raw.decode(errors="replace")
                tags = [*(tags or ()), "invalid_utf8"]
            # Same bytes as model.event_id (stream, offset, line), hashed in one call.
            eid = _blake2b(prefix + b"%d\0" % offset + raw, digest_size=16).hexdigest()
            try:
                fields = parse(text)
            except ParseError as exc:
                letters.append(self._dead_letter(eid, offset, exc.reason, text, tags))
                continue
            except Exception as exc:  # a parser bug must cost one line, never the collector
                log.exception("parser %s failed on %s at %d", self.parser.format, self.origin.path, offset)
                letters.append(self._dead_letter(eid, offset, f"parser error: {type(exc).__name__}: {exc}",
                                                 text, tags))
                continue
            if fields is None:
                stats.directives += 1
                continue
            if "@timestamp" not in fields:
                letters.append(self._dead_letter(eid, offset, "no time in the line", text, tags))
                continue
            event = {**common, **fields, "event.id": eid, "event.original": text, "log.offset": offset,
                     "event.ingested": ingested}
            if fields["@timestamp"] > future:
                # A time from the future would move event-time windows past every real event: the event is
                # kept at its arrival time, with the claimed time and a tag that counts it per source.
                event["labels.claimed_timestamp"] = fields["@timestamp"]
                event["@timestamp"] = ingested
                tags = [*(tags or ()), "future_timestamp"]
            if tags is not None or "tags" in fields:
                tags = [*fields.get("tags", ()), *(tags or ())]
                event["tags"] = tags
                for tag in tags:
                    stats.flagged[tag] = stats.flagged.get(tag, 0) + 1
            if forwarded and "http.request.forwarded_for" in event:
                self.enricher.forwarded(event)  # type: ignore[union-attr]
            if check_owner:
                reason = self._owner(event)
                if reason is not None:
                    letters.append(self._dead_letter(eid, offset, reason, text, tags))
                    continue
            keep(event)
        stats.events += len(events)
        stats.dead_letters += len(letters)
        return events, letters

    def _owner(self, event: Event) -> str | None:
        if self.origin.agency is None:
            return self.origin.unowned or f"no agency for this line: {self.origin.path} belongs to no system"
        if self._resolve:
            system = self.enricher.resolve(event, event["organization.id"])  # type: ignore[union-attr]
            if system is not None:
                event["service.id"] = system.id
        return None

    def _dead_letter(self, eid: str, offset: int, reason: str, text: str, tags: list[str] | None) -> DeadLetter:
        if tags:
            reason = f"{reason} ({', '.join(tags)})"
        return DeadLetter(id=eid, received=utcnow(), source_format=self.parser.format, path=self.origin.path,
                          offset=offset, reason=reason, raw=text[:MAX_LINE_BYTES], agency=self.origin.agency)
