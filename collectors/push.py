"""The HTTP push source, without the web framework: who is pushing (a token per system source), and
request bodies (NDJSON, plain lines, Elasticsearch ``_bulk``) → batches for the delivery.

Pushed records have no file offset. Their ids come from the request: (source, digest of the body, index
of the record), so a client that retries the same request after a timeout (Fluent Bit, Vector and
Logstash all do) stores nothing twice, and identical records in different requests stay distinct.

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
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import Parser
from canhgac.collectors.parsers.jsonlines import JsonLinesParser
from canhgac.collectors.parsers.modsecurity import ModSecurityParser
from canhgac.collectors.raw import RawLine
from canhgac.collectors.status import flag_counts
from canhgac.core.config import HttpLogSource, MonitoredSystem
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

    @property
    def id(self) -> str:
        return f"http:{self.source.name}"

    @property
    def reads_documents(self) -> bool:
        return isinstance(self.parser, DOCUMENT_PARSERS)


@dataclass
class PushResult:
    batch: Batch
    dead_letters: int = 0  # lines that did not become events, kept one by one or counted in the summary
    summarised: int = 0  # of those, the ones only counted in the summary letter
    items: list[dict[str, Any]] = field(default_factory=list)  # _bulk: the answer's items, at most max_bulk_items
    items_not_listed: int = 0
    errors: bool = False  # _bulk: some action was refused (Elasticsearch's ``errors``)


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

    # bodies -----------------------------------------------------------------------------------------
    def lines_batch(self, target: PushTarget, body: bytes, *, json_lines: bool, max_dead_letters: int) -> PushResult:
        """NDJSON (each line a JSON document, or a JSON string holding a raw line) or plain log lines."""
        records = []
        for index, line in enumerate(body.split(b"\n")):
            line = line.rstrip(b"\r")
            if line.strip():
                records.append(RawLine(index, self._record(target, line) if json_lines else line))
        return self._decode(target, body, records, max_dead_letters)

    def bulk(self, target: PushTarget, body: bytes, *, max_dead_letters: int, max_items: int) -> PushResult:
        """An Elasticsearch bulk body: action lines, each ``index``/``create`` followed by its document."""
        records: list[RawLine] = []
        items: list[dict[str, Any]] = []
        actions = refused = 0

        def answer(verb: str, meta: Any, status: int, error: str | None) -> None:
            nonlocal actions, refused
            actions += 1
            refused += status >= 300
            if len(items) < max_items:
                items.append(_item(verb, meta, status, error))

        lines = [line for line in body.split(b"\n") if line.strip()]
        position = 0
        while position < len(lines):
            try:
                action = orjson.loads(lines[position])
                (verb, meta), = action.items()
            except (orjson.JSONDecodeError, ValueError, AttributeError):
                answer("index", None, 400, "action line is not {\"index\": {…}}")
                position += 1
                continue
            if verb == "delete":
                answer("delete", meta, 400, "Canh Gác keeps events; delete is refused")
                position += 1
                continue
            if position + 1 >= len(lines):
                answer(verb, meta, 400, "action without a document")
                break
            document = lines[position + 1]
            if verb not in ("index", "create"):
                answer(verb, meta, 400, f"{verb[:MAX_VERB]} is not supported; use index or create")
            else:
                records.append(RawLine(actions, self._record(target, document)))
                answer(verb, meta, 201, None)
            position += 2
        result = self._decode(target, body, records, max_dead_letters)
        result.items, result.items_not_listed, result.errors = items, actions - len(items), refused > 0
        return result

    def _record(self, target: PushTarget, line: bytes) -> bytes:
        """The bytes the parser reads: the document itself, or the raw log line it carries."""
        if target.reads_documents:
            return line
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line  # the parser makes a dead letter of it, with the reason
        if isinstance(document, str):
            return document.encode()
        if isinstance(document, dict):
            for name in target.source.message_fields:
                value = _dotted(document, name)
                if isinstance(value, str):
                    return value.encode()
        return line

    def _decode(self, target: PushTarget, body: bytes, records: list[RawLine], max_dead_letters: int) -> PushResult:
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        origin = Origin(stream=f"{target.id}:{digest}", path=target.id, agency=target.system.agency,
                        system=target.system.id)
        decoder = LineDecoder(target.parser, origin, self.collection.enricher)
        events: list[Event] = []
        kept: list[DeadLetter] = []
        failed = 0
        first_summarised: DeadLetter | None = None
        for start in range(0, len(records), DECODE_SLICE):
            found, letters = decoder.decode(records[start:start + DECODE_SLICE])
            events += found
            failed += len(letters)
            room = max_dead_letters - len(kept)
            kept += letters[:room]
            if first_summarised is None and len(letters) > room:
                first_summarised = letters[room]
        summarised = failed - len(kept)
        if first_summarised is not None:
            kept.append(_summary(first_summarised, origin.stream, summarised, len(kept)))
        self.collection.board.read(target.id, lines=len(records), events=len(events), dead_letters=failed,
                                   **flag_counts(events),
                                   newest=max((e["@timestamp"] for e in events), default=None))
        return PushResult(Batch(target.id, events, kept, {}, len(records)), dead_letters=failed,
                          summarised=summarised)


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


def _item(verb: str, meta: Any, status: int, error: str | None) -> dict[str, Any]:
    """One item of a _bulk answer, echoing no more of the action line than Elasticsearch would accept."""
    meta = meta if isinstance(meta, dict) else {}
    index, doc_id = meta.get("_index", "canhgac"), meta.get("_id")
    result: dict[str, Any] = {"_index": index[:MAX_INDEX] if isinstance(index, str) else "canhgac",
                              "_id": doc_id[:MAX_ID] if isinstance(doc_id, str) else None, "status": status}
    if error is None:
        result.update({"result": "created", "_version": 1})
    else:
        result["error"] = {"type": "illegal_argument_exception", "reason": error}
    return {verb[:MAX_VERB]: result}


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
