"""Messages a shipper published straight to a partition subject, without Canh Gác's framing or headers: Vector's
``nats`` sink (one event per message, ``json`` or ``text`` codec), Fluent Bit's ``nats`` output (a JSON array of
``[time, {record}]``), or any client. The bus hands them on as one-line batches marked foreign; the worker reads
records out of them here (docs/shipping/bus.md, docs/decisions/0050).

Each record names a configured ``type: http`` log source (its format, message fields and system, hence its
agency): by the ``Canhgac-Source`` header, else by a ``canhgac_source`` field. An event id is (source, the
message's ``Nats-Msg-Id`` or else its stream sequence, the record's index), so a redelivered message, or a
shipper's retry with the same ``Nats-Msg-Id``, stores nothing twice. Whatever cannot be read — not JSON in a
known shape, no source, a source of another partition — is a dead letter with the reason, the subject, the
sequence and the record's index; a message never stops its partition.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import orjson
from canhgac.collectors.bus.base import LineBatch, partition_of
from canhgac.collectors.context import SourceContext
from canhgac.collectors.lines import MAX_LINE_BYTES, LineDecoder, Origin
from canhgac.collectors.parsers import Parser
from canhgac.collectors.push import DOCUMENT_PARSERS, _dotted, _message_fields
from canhgac.collectors.raw import RawLine
from canhgac.core.config import HttpLogSource
from canhgac.core.model import DeadLetter, Event, event_id, utcnow

FOREIGN_PREFIX = "nats:"
H_AGENCY, H_SOURCE, H_MSG_ID = "Canhgac-Agency", "Canhgac-Source", "Nats-Msg-Id"
SOURCE_FIELD, AGENCY_FIELD = "canhgac_source", "canhgac_agency"
Record = dict[str, Any] | bytes


def foreign_batch(subject: str, headers: dict[str, str], body: bytes) -> LineBatch:
    """A shipper's message as the bus hands it on: the whole body as one line, what its headers say in the id."""
    def header(name: str) -> str | None:
        value = headers.get(name)
        return unquote(value) if value else None

    named = {"subject": subject, "msg_id": header(H_MSG_ID), "source": header(H_SOURCE), "agency": header(H_AGENCY)}
    return LineBatch(named["agency"] or "", FOREIGN_PREFIX + json.dumps(named, sort_keys=True),
                     (RawLine(0, body),))


def is_foreign(source_id: str) -> bool:
    return source_id.startswith(FOREIGN_PREFIX + "{")


def records_of(body: bytes) -> list[Record] | str:
    """The records of a body, or why it has none: one JSON object (Vector), Fluent Bit's ``[[time, {record}],
    …]`` or ``[time, {record}]``, else text lines (each a JSON object or a raw log line)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
    else:
        if isinstance(document, dict):
            return [document]
        if isinstance(document, str):
            return [document.encode()]
        if isinstance(document, list):
            if _timed(document):
                return [document[1]]
            if document and all(isinstance(item, list) and _timed(item) for item in document):
                return [item[1] for item in document]
            return "a JSON array that is not Fluent Bit's [[time, {record}], …]"
        if document is not None:
            return f"a JSON {type(document).__name__}, not a record"
    out: list[Record] = []
    for line in body.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        if line.lstrip()[:1] == b"{":
            try:
                parsed = orjson.loads(line)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                out.append(parsed)
                continue
        out.append(line)
    return out or "an empty message"


def _timed(item: list[Any]) -> bool:
    return len(item) == 2 and isinstance(item[0], int | float) and not isinstance(item[0], bool) \
        and isinstance(item[1], dict)


class ForeignDecoder:
    """Reads shippers' messages for one partition of a bus with ``partitions`` partitions."""

    def __init__(self, collection: SourceContext, partitions: int) -> None:
        self.collection = collection
        self.partitions = partitions
        self.sources = {source.name: (system, source) for system, source in collection.http_sources()}
        self._parsers: dict[str, Parser] = {}

    def decode(self, batch: LineBatch, partition: int, sequence: int) -> tuple[list[Event], list[DeadLetter]]:
        named = json.loads(batch.source_id[len(FOREIGN_PREFIX):])
        subject = str(named.get("subject") or "?")
        key = str(named["msg_id"]) if named.get("msg_id") else f"seq:{sequence}"
        where = f"nats:{subject}"
        body = b"".join(line.data for line in batch.lines)

        def letter(index: int, raw: bytes, reason: str, agency: str | None = None) -> DeadLetter:
            return DeadLetter(id=event_id(f"nats:{key}", index, raw), received=utcnow(), source_format="unknown",
                              path=where, offset=index, agency=agency,
                              raw=raw.decode(errors="replace")[:MAX_LINE_BYTES],
                              reason=f"{reason} (subject {subject}, stream sequence {sequence}, record {index})")

        found = records_of(body)
        if isinstance(found, str):
            return [], [letter(0, body, f"message not readable: {found}")]
        letters: list[DeadLetter] = []
        groups: dict[str, list[RawLine]] = {}
        for index, record in enumerate(found):
            raw = record if isinstance(record, bytes) else orjson.dumps(record)
            name = named.get("source") or (record.get(SOURCE_FIELD) if isinstance(record, dict) else None)
            if not isinstance(name, str) or name not in self.sources:
                why = f"names {str(name)[:80]!r}, which is no type: http log source" if name else "names no log source"
                letters.append(letter(index, raw, f"{why}: set the {H_SOURCE} header or a {SOURCE_FIELD} field "
                                                  "to the name of a type: http log source"))
                continue
            system, source = self.sources[name]
            claimed = named.get("agency") or (record.get(AGENCY_FIELD) if isinstance(record, dict) else None)
            if claimed and claimed != system.agency:
                letters.append(letter(index, raw, f"agency {str(claimed)[:80]!r} is not the agency of source {name!r} "
                                                  f"({system.agency})", system.agency))
                continue
            home = partition_of(system.agency, self.partitions)
            if home != partition:
                letters.append(letter(index, raw, f"agency {system.agency} is on partition {home}, not {partition}: "
                                                  "publish to its subject (canhgac cluster subjects)", system.agency))
                continue
            groups.setdefault(name, []).append(RawLine(index, self._bytes(source, record)))
        events: list[Event] = []
        for name, lines in groups.items():
            system, source = self.sources[name]
            origin = Origin(stream=f"nats:{name}:{key}", path=where, agency=system.agency, system=system.id)
            found_events, found_letters = LineDecoder(self._parser(source), origin, self.collection.enricher).decode(
                lines)
            events += found_events
            letters += found_letters
        return events, letters

    def _parser(self, source: HttpLogSource) -> Parser:
        parser = self._parsers.get(source.name)
        if parser is None:
            parser = self._parsers[source.name] = self.collection.parser(source.format, source.timezone)
        return parser

    def _bytes(self, source: HttpLogSource, record: Record) -> bytes:
        """What the source's parser reads: a text line as it is; of a JSON record, the document (JSON formats)
        or the raw line it carries in one of the source's message fields."""
        if isinstance(record, bytes):
            return record
        document = {k: v for k, v in record.items() if k not in (SOURCE_FIELD, AGENCY_FIELD)}
        if not isinstance(self._parser(source), DOCUMENT_PARSERS):
            for name in _message_fields(source.message_fields):
                value = _dotted(document, name)
                if isinstance(value, str):
                    return value.encode()
        return orjson.dumps(document)

