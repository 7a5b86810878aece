"""HTTP push over the bus: the collector answers a push exactly as ``serve`` does, then publishes the request's
records raw; the worker rebuilds the push decoder from the batch's source id and makes the same events.

The collector parses each request itself, because its answer depends on the parse (``_bulk`` items that became
dead letters answer 400, the counts, the summary of dead letters); the worker parses again, with the same
parser, origin and ids. A record's position is its index in the request (a line, or a ``_bulk`` action), so an
event id is (source, body digest, index) as in ``serve``; a document whose action named an ``_id`` carries it
ahead of its bytes, and its id comes from (source, ``_id``). Records whose dead letters ``serve`` would only have
counted are not published; the first of them travels alone, flagged, and the worker turns its letter into the
same summary dead letter. A client's retry is the same body: the same batch ids (the stream stores them once)
and the same event ids.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from typing import Any

from canhgac.collectors.bus.base import LineBatch
from canhgac.collectors.bus.publishing import split_batches
from canhgac.collectors.context import SourceContext
from canhgac.collectors.es_documents import with_sender_ids
from canhgac.collectors.lines import MAX_LINE_BYTES, LineDecoder, Origin
from canhgac.collectors.parsers import Parser
from canhgac.collectors.push import PushResult, PushSources, PushTarget, _summary
from canhgac.collectors.raw import RawLine
from canhgac.core.config import HttpLogSource
from canhgac.core.model import DeadLetter, Event

PUSH_PREFIX = "push:"
_ID_LENGTH = struct.Struct(">H")


def push_source_id(source: str, digest: str, fmt: str | None, *, ids: bool = False,
                   summary: tuple[int, int] | None = None) -> str:
    """The push source, the request's body digest (the event ids), the format an ``_index`` chose (None: the
    source's), whether each record carries its sender's ``_id``, and for the summarised record (count, kept)."""
    data: dict[str, Any] = {"source": source, "digest": digest, "format": fmt}
    if ids:
        data["ids"] = True
    if summary is not None:
        data["summary"] = list(summary)
    return PUSH_PREFIX + json.dumps(data, sort_keys=True)


def parse_push_source_id(source_id: str) -> dict[str, Any] | None:
    try:
        data = json.loads(source_id[len(PUSH_PREFIX):])
        if isinstance(data, dict) and isinstance(data.get("source"), str) and isinstance(data.get("digest"), str):
            return data
    except ValueError:
        pass
    return None


class BusPushSources(PushSources):
    """The push sources of ``serve`` (tokens, bodies, answers), whose accepted requests leave as ``LineBatch``es
    in ``result.batch.prepared`` for the delivery's publisher; the events stay only for the counts."""

    bus_lines = 500

    def _decode(self, target: PushTarget, body: bytes, groups: dict[int, tuple[Parser, list[RawLine]]],
                ids: dict[int, str], max_dead_letters: int) -> tuple[PushResult, dict[int, str]]:
        result, failed = super()._decode(target, body, groups, ids, max_dead_letters)
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        letters = result.batch.letters
        summary = letters[-1] if result.summarised else None
        kept = {letter.offset for letter in (letters[:-1] if summary is not None else letters)}
        agency = target.system.agency
        batches: list[LineBatch] = []
        for parser, records in groups.values():
            fmt = None if parser is target.parser else next(
                (name for name, made in target.other_formats.items() if made is parser), parser.format)
            carry = [_cut(r, parser) for r in records if r.offset not in failed or r.offset in kept]
            carry_ids = bool(ids) and any(r.offset in ids for r in carry)
            source_id = push_source_id(target.source.name, digest, fmt, ids=carry_ids)
            batches += split_batches(agency, source_id, [_with_id(r, ids) if carry_ids else r for r in carry],
                                     self.bus_lines)
            first = next((_cut(r, parser) for r in records if summary is not None and r.offset == summary.offset),
                         None)
            if first is not None:
                alone = push_source_id(target.source.name, digest, fmt, ids=bool(ids),
                                       summary=(result.summarised, len(kept)))
                batches.append(LineBatch(agency, alone, (_with_id(first, ids) if ids else first,)))
        result.batch.prepared = batches or None
        return result, failed


def _cut(record: RawLine, parser: Parser) -> RawLine:
    """A record longer than the decoder keeps is cut as the decoder would cut it (plus one byte, so that it is
    still tagged ``truncated``): the same event, and a batch that fits the bus."""
    keep = getattr(parser, "max_bytes", MAX_LINE_BYTES) + 1
    if len(record.data) <= keep or callable(getattr(parser, "framer", None)):
        return record
    return RawLine(record.offset, record.data[:keep])


def _with_id(record: RawLine, ids: dict[int, str]) -> RawLine:
    sender = ids.get(record.offset, "").encode()
    return RawLine(record.offset, _ID_LENGTH.pack(len(sender)) + sender + record.data)


def _split_id(record: RawLine) -> tuple[str, RawLine]:
    (length,) = _ID_LENGTH.unpack_from(record.data)
    start = _ID_LENGTH.size
    return record.data[start:start + length].decode(), RawLine(record.offset, record.data[start + length:])


class PushDecoder:
    """The worker's side: the decoder ``serve`` made for one group of one request, fed its batches in order."""

    def __init__(self, collection: SourceContext, named: dict[str, Any]) -> None:
        found = next(((system, source) for system, source in collection.http_sources()
                      if source.name == named["source"]), None)
        if found is None:
            raise LookupError(f"no http log source named {named['source']!r} in this worker's configuration")
        system, source = found
        self.source: HttpLogSource = source
        self.source_id = f"http:{source.name}"
        self.stream = f"{self.source_id}:{named['digest']}"
        parser = collection.parser(named.get("format") or source.format, source.timezone)
        origin = Origin(stream=self.stream, path=self.source_id, agency=system.agency, system=system.id)
        self.decoder = LineDecoder(parser, origin, collection.enricher)
        self.ids = bool(named.get("ids"))
        summary = named.get("summary")
        self.summary = (int(summary[0]), int(summary[1])) if isinstance(summary, list) and len(summary) == 2 else None

    def decode(self, lines: Sequence[RawLine]) -> tuple[list[Event], list[DeadLetter]]:
        ids: dict[int, str] = {}
        if self.ids:
            records = []
            for line in lines:
                sender, record = _split_id(line)
                if sender:
                    ids[record.offset] = sender
                records.append(record)
            lines = records
        events, letters = self.decoder.decode(lines)
        if ids:
            events, letters = with_sender_ids(self.source_id, events, letters, ids)
        if self.summary is not None and letters:
            count, kept = self.summary
            letters = [_summary(letters[0], self.stream, count, kept)]
        return events, letters
