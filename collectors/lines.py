"""From raw lines to events: decode, parse, and stamp the fields every event carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from canhgac.errors import ParseError
from canhgac.model import DeadLetter, Event, event_id, to_utc_iso, utcnow
from collectors.parsers import Parser

MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class RawLine:
    offset: int  # byte offset of the line's first byte in its stream
    data: bytes  # without the line terminator


@dataclass
class DecodeStats:
    lines: int = 0
    events: int = 0
    dead_letters: int = 0
    blank: int = 0
    flagged: dict[str, int] = field(default_factory=dict)

    def add(self, other: DecodeStats) -> None:
        self.lines += other.lines
        self.events += other.events
        self.dead_letters += other.dead_letters
        self.blank += other.blank
        for tag, count in other.flagged.items():
            self.flagged[tag] = self.flagged.get(tag, 0) + count


@dataclass(frozen=True)
class Origin:
    """Where lines come from and whom they belong to."""

    stream: str  # the logical stream name that makes event ids stable (the file's absolute path)
    path: str
    agency: str
    system: str | None = None


class LineDecoder:
    def __init__(self, parser: Parser, origin: Origin) -> None:
        self.parser = parser
        self.origin = origin
        self.stats = DecodeStats()
        self._common: dict[str, Any] = {**parser.static_fields, "organization.id": origin.agency,
                                        "log.file.path": origin.path}
        if origin.system is not None:
            self._common["service.id"] = origin.system

    def decode(self, lines: Sequence[RawLine]) -> tuple[list[Event], list[DeadLetter]]:
        events: list[Event] = []
        letters: list[DeadLetter] = []
        stats = self.stats
        stream, parse, common = self.origin.stream, self.parser.parse, self._common
        ingested = to_utc_iso(utcnow())
        for line in lines:
            raw = line.data
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            stats.lines += 1
            if not raw.strip():
                stats.blank += 1
                continue
            tags: list[str] = []
            if len(raw) > MAX_LINE_BYTES:
                raw = raw[:MAX_LINE_BYTES]
                tags.append("truncated")
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                text = raw.decode(errors="replace")
                tags.append("invalid_utf8")
            eid = event_id(stream, line.offset, raw)
            try:
                fields = parse(text)
            except ParseError as exc:
                letters.append(self._dead_letter(eid, line.offset, exc.reason, text, tags))
                continue
            event = {**common, **fields, "event.id": eid, "event.original": text, "log.offset": line.offset,
                     "event.ingested": ingested}
            if tags:
                event["tags"] = tags
                for tag in tags:
                    stats.flagged[tag] = stats.flagged.get(tag, 0) + 1
            events.append(event)
        stats.events += len(events)
        stats.dead_letters += len(letters)
        return events, letters

    def _dead_letter(self, eid: str, offset: int, reason: str, text: str, tags: list[str]) -> DeadLetter:
        if tags:
            reason = f"{reason} ({', '.join(tags)})"
        return DeadLetter(id=eid, received=utcnow(), source_format=self.parser.format, path=self.origin.path,
                          offset=offset, reason=reason, raw=text, agency=self.origin.agency)
