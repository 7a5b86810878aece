"""The HTTP push source, without the web framework: who is pushing (a token per system source), and
request bodies (NDJSON, plain lines, Elasticsearch ``_bulk``) → batches for the delivery.

Pushed records have no file offset. Their ids come from the request: (source, digest of the body, index
of the record), so a client that retries the same request after a timeout (Fluent Bit, Vector and
Logstash all do) stores nothing twice, and identical records in different requests stay distinct. A
``_bulk`` document whose action names an ``_id`` takes its id from (source, ``_id``) instead, so re-sending
it in another body stores nothing twice either; its ``_index`` may name the format (docs/decisions/0044).

A request is bounded before it is parsed (uncompressed bytes, lines: over a limit it is refused whole and
nothing of it is stored), and what it can cost after is bounded too: at most ``max_dead_letters`` dead letters
are kept one by one, the rest are counted in one summary letter; a ``_bulk`` answer lists at most
``max_bulk_items`` items (see docs/decisions/0027-request-limits.md).
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from canhgac.collectors.context import SourceContext
from canhgac.collectors.delivery import Batch
from canhgac.collectors.es_documents import index_formats, with_sender_ids
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import Parser
from canhgac.collectors.parsers.jsonlines import JsonLinesParser
from canhgac.collectors.parsers.modsecurity import ModSecurityParser
from canhgac.collectors.raw import RawLine
from canhgac.collectors.status import flag_counts
from canhgac.core.config import HttpLogSource, MonitoredSystem
from canhgac.core.errors import UnknownFormat
from canhgac.core.model import DeadLetter, Event, utcnow

DOCUMENT_PARSERS = (JsonLinesParser, ModSecurityParser)  # parsers that read the pushed JSON document itself
DECODE_SLICE = 5000  # lines decoded at a time, so that a body of bad lines never holds all its letters at once
SUMMARY_RAW_CHARS = 2048
# What a _bulk item echoes of its action line at most (Elasticsearch's own limits on index names and ids).
MAX_VERB, MAX_INDEX, MAX_ID = 32, 255, 512


class BodyTooLarge(ValueError):
    pass


class TooManyLines(BodyTooLarge):
    pass


@dataclass
class PushTarget:
    system: MonitoredSystem
    source: HttpLogSource
    parser: Parser
    other_formats: dict[str, Parser] = field(default_factory=dict)  # formats ``_index`` names, made once each

    @property
    def id(self) -> str:
        return f"http:{self.source.name}"


@dataclass
class PushResult:
    batch: Batch
    dead_letters: int = 0  # lines that did not become events, kept one by one or counted in the summary
    summarised: int = 0  # of those, the ones only counted in the summary letter
    items: list[dict[str, Any]] = field(default_factory=list)  # _bulk: the answer's items, at most max_bulk_items
    items_not_listed: int = 0
    errors: bool = False  # _bulk: some action was refused or its document became a dead letter


@dataclass
class _Action:
    """One action of a ``_bulk`` body and what its answer will say."""

    verb: str
    meta: Any
    status: int = 201
    error: tuple[str, str] | None = None  # Elasticsearch's (type, reason)


class PushSources:
    def __init__(self, collection: SourceContext) -> None:
        self.collection = collection
        self.targets: list[tuple[str, PushTarget]] = []
        for system, source in collection.http_sources():
            target = PushTarget(system, source, collection.parser(source.format, source.timezone))
            self.targets.append((source.token_sha256, target))
            collection.board.register(target.id, "http", format=source.format, path=f"http:{source.name}",
                                      agency=system.agency, system=system.id)

    def authenticate(self, token: str | None) -> PushTarget | None:
        if not token:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        found = None
        for expected, target in self.targets:  # no early exit: every token costs the same comparisons
            if hmac.compare_digest(digest, expected) and found is None:
                found = target
        return found

    def parser_for(self, target: PushTarget, index: Any, known: dict[str, Parser | None]) -> Parser:
        """The parser an ``_index`` or data stream name asks for (see ``index_formats``), else the source's.
        ``known`` caches the answer per name for one request; a parser is made once per target and format."""
        if not isinstance(index, str) or not index:
            return target.parser
        if index in known:
            return known[index] or target.parser
        chosen: Parser | None = None
        for name in index_formats(index):
            if name == target.source.format:
                chosen = target.parser
            elif name in target.other_formats:
                chosen = target.other_formats[name]
            else:
                try:
                    chosen = target.other_formats[name] = self.collection.parser(name, target.source.timezone)
                except UnknownFormat:
                    continue
            break
        known[index] = chosen
        return chosen or target.parser

    # bodies -----------------------------------------------------------------------------------------
    def lines_batch(self, target: PushTarget, body: bytes, *, json_lines: bool, max_dead_letters: int) -> PushResult:
        """NDJSON (each line a JSON document, or a JSON string holding a raw line) or plain log lines."""
        records = []
        for index, line in enumerate(body.split(b"\n")):
            line = line.rstrip(b"\r")
            if line.strip():
                records.append(RawLine(index, self._record(target, target.parser, line) if json_lines else line))
        result, _ = self._decode(target, body, {id(target.parser): (target.parser, records)}, {},
                                 max_dead_letters)
        return result

    def bulk(self, target: PushTarget, body: bytes, *, max_dead_letters: int, max_items: int,
             index: str | None = None) -> PushResult:
        """An Elasticsearch bulk body: action lines, each ``index``/``create`` followed by its document.
        ``index``: the one the URL names, for actions that name none (as Elasticsearch does)."""
        groups: dict[int, tuple[Parser, list[RawLine]]] = {}
        actions: list[_Action] = []
        ids: dict[int, str] = {}
        known: dict[str, Parser | None] = {}
        lines = [line for line in body.split(b"\n") if line.strip()]
        position = 0
        while position < len(lines):
            try:
                action = orjson.loads(lines[position])
                (verb, meta), = action.items()
            except (orjson.JSONDecodeError, ValueError, AttributeError):
                actions.append(_Action("index", None, 400, ("illegal_argument_exception",
                                                            "action line is not {\"index\": {…}}")))
                position += 1
                continue
            meta = meta if isinstance(meta, dict) else {}
            if verb == "delete":
                actions.append(_Action("delete", meta, 400, ("illegal_argument_exception",
                                                             "Canh Gác keeps events; delete is refused")))
                position += 1
                continue
            if position + 1 >= len(lines):
                actions.append(_Action(verb, meta, 400, ("illegal_argument_exception", "action without a document")))
                break
            if verb not in ("index", "create"):
                actions.append(_Action(verb, meta, 400, ("illegal_argument_exception",
                                                         f"{verb[:MAX_VERB]} is not supported; use index or create")))
            else:
                parser = self.parser_for(target, meta.get("_index", index), known)
                offset = len(actions)
                groups.setdefault(id(parser), (parser, []))[1].append(
                    RawLine(offset, self._record(target, parser, lines[position + 1])))
                if isinstance(meta.get("_id"), str) and meta["_id"]:
                    ids[offset] = meta["_id"][:MAX_ID]
                actions.append(_Action(verb, meta))
            position += 2
        result, failed = self._decode(target, body, groups, ids, max_dead_letters)
        for offset, reason in failed.items():
            actions[offset].status, actions[offset].error = 400, ("document_parsing_exception", reason)
        result.items = [_item(action, index) for action in actions[:max_items]]
        result.items_not_listed = max(0, len(actions) - max_items)
        result.errors = any(action.status >= 300 for action in actions)
        return result

    def _record(self, target: PushTarget, parser: Parser, line: bytes) -> bytes:
        """The bytes the parser reads: the document itself, or the raw log line it carries."""
        if isinstance(parser, DOCUMENT_PARSERS):
            return line
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line  # the parser makes a dead letter of it, with the reason
        if isinstance(document, str):
            return document.encode()
        if isinstance(document, dict):
            for name in _message_fields(target.source.message_fields):
                value = _dotted(document, name)
                if isinstance(value, str):
                    return value.encode()
        return line

    def _decode(self, target: PushTarget, body: bytes, groups: dict[int, tuple[Parser, list[RawLine]]],
                ids: dict[int, str], max_dead_letters: int) -> tuple[PushResult, dict[int, str]]:
        """Events and dead letters of the records, each group by its parser; ``ids`` maps a record's offset
        to the ``_id`` its sender gave, from which its event id then derives (docs/decisions/0044)."""
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        origin = Origin(stream=f"{target.id}:{digest}", path=target.id, agency=target.system.agency,
                        system=target.system.id)
        events: list[Event] = []
        kept: list[DeadLetter] = []
        failed: dict[int, str] = {}
        first_summarised: DeadLetter | None = None
        count = 0
        for parser, records in groups.values():
            decoder = LineDecoder(parser, origin, self.collection.enricher)
            count += len(records)
            for start in range(0, len(records), DECODE_SLICE):
                found, letters = decoder.decode(records[start:start + DECODE_SLICE])
                if ids:
                    found, letters = with_sender_ids(target.id, found, letters, ids)
                events += found
                failed.update((letter.offset, letter.reason) for letter in letters)
                room = max_dead_letters - len(kept)
                kept += letters[:room]
                if first_summarised is None and len(letters) > room:
                    first_summarised = letters[room]
        summarised = len(failed) - len(kept)
        if first_summarised is not None:
            kept.append(_summary(first_summarised, origin.stream, summarised, len(kept)))
        self.collection.board.read(target.id, lines=count, events=len(events), dead_letters=len(failed),
                                   **flag_counts(events),
                                   newest=max((e["@timestamp"] for e in events), default=None))
        result = PushResult(Batch(target.id, events, kept, {}, count), dead_letters=len(failed),
                            summarised=summarised)
        return result, failed


def _message_fields(configured: list[str]) -> list[str]:
    """syslog-ng's templates name the message ``MESSAGE``: wherever ``message`` is looked for, so is it."""
    if "message" in configured and "MESSAGE" not in configured:
        return [*configured, "MESSAGE"]
    return configured


def _summary(first: DeadLetter, stream: str, count: int, kept: int) -> DeadLetter:
    """One dead letter standing for ``count`` more of one request; its id is stable, so a retry adds nothing."""
    reason = (f"{count} more lines of this request could not be parsed either; only the first {kept} were kept "
              f"one by one. The first of the rest, shown here: {first.reason}")
    return first.model_copy(update={
        "id": hashlib.blake2b(f"{stream}\0summary".encode(), digest_size=16).hexdigest(),
        "received": utcnow(), "reason": reason, "raw": first.raw[:SUMMARY_RAW_CHARS]})


def _dotted(document: dict[str, Any], name: str) -> Any:
    if name in document:
        return document[name]
    node: Any = document
    for part in name.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _item(action: _Action, default_index: str | None) -> dict[str, Any]:
    """One item of a _bulk answer, echoing no more of the action line than Elasticsearch would accept."""
    meta = action.meta if isinstance(action.meta, dict) else {}
    index, doc_id = meta.get("_index", default_index or "canhgac"), meta.get("_id")
    result: dict[str, Any] = {"_index": index[:MAX_INDEX] if isinstance(index, str) else "canhgac",
                              "_id": doc_id[:MAX_ID] if isinstance(doc_id, str) else None, "status": action.status}
    if action.error is None:
        result.update({"result": "created", "_version": 1})
    else:
        kind, reason = action.error
        result["error"] = {"type": kind, "reason": reason}
    return {action.verb[:MAX_VERB]: result}


def count_lines(body: bytes, limit: int) -> int:
    """The lines of a body (counted without splitting it); over ``limit``, the request is refused whole."""
    lines = body.count(b"\n") + (0 if not body or body.endswith(b"\n") else 1)
    if lines > limit:
        raise TooManyLines(f"{lines} lines; at most {limit} per request")
    return lines


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """``Content-Encoding: gzip`` (Fluent Bit ``Compress gzip``, Vector ``compression = "gzip"``), bounded:
    the result is at most ``limit`` bytes, whatever the encoding."""
    if not encoding or encoding.lower() == "identity":
        if len(body) > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes")
        return body
    if encoding.lower() not in ("gzip", "deflate"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32 if encoding.lower() == "gzip" else zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"the body is not valid {encoding}: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge(f"the uncompressed body is over {limit} bytes")
    return data
