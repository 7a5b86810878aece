"""The HTTP push source, without the web framework: who is pushing (a token per system source), and
request bodies (NDJSON, plain lines, Elasticsearch ``_bulk``) → batches for the delivery.

Pushed records have no file offset. Their ids come from the request: (source, digest of the body, index
of the record), so a client that retries the same request after a timeout (Fluent Bit, Vector and
Logstash all do) stores nothing twice, and identical records in different requests stay distinct.
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
from canhgac.core.config import HttpLogSource, MonitoredSystem

DOCUMENT_PARSERS = (JsonLinesParser, ModSecurityParser)  # parsers that read the pushed JSON document itself


class BodyTooLarge(ValueError):
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
class BulkResult:
    batch: Batch
    items: list[dict[str, Any]] = field(default_factory=list)


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
    def lines_batch(self, target: PushTarget, body: bytes, *, json_lines: bool) -> Batch:
        """NDJSON (each line a JSON document, or a JSON string holding a raw line) or plain log lines."""
        records = []
        for index, line in enumerate(body.split(b"\n")):
            line = line.rstrip(b"\r")
            if line.strip():
                records.append(RawLine(index, self._record(target, line) if json_lines else line))
        return self._batch(target, body, records)

    def bulk(self, target: PushTarget, body: bytes) -> BulkResult:
        """An Elasticsearch bulk body: action lines, each ``index``/``create`` followed by its document."""
        records: list[RawLine] = []
        items: list[dict[str, Any]] = []
        lines = [line for line in body.split(b"\n") if line.strip()]
        position = 0
        while position < len(lines):
            try:
                action = orjson.loads(lines[position])
                (verb, meta), = action.items()
            except (orjson.JSONDecodeError, ValueError, AttributeError):
                items.append(_item("index", None, 400, "action line is not {\"index\": {…}}"))
                position += 1
                continue
            if verb == "delete":
                items.append(_item("delete", meta, 400, "Canh Gác keeps events; delete is refused"))
                position += 1
                continue
            if position + 1 >= len(lines):
                items.append(_item(verb, meta, 400, "action without a document"))
                break
            document = lines[position + 1]
            if verb not in ("index", "create"):
                items.append(_item(verb, meta, 400, f"{verb} is not supported; use index or create"))
            else:
                records.append(RawLine(len(items), self._record(target, document)))
                items.append(_item(verb, meta, 201, None))
            position += 2
        batch = self._batch(target, body, records)
        return BulkResult(batch, items)

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

    def _batch(self, target: PushTarget, body: bytes, records: list[RawLine]) -> Batch:
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        origin = Origin(stream=f"{target.id}:{digest}", path=target.id, agency=target.system.agency,
                        system=target.system.id)
        decoder = LineDecoder(target.parser, origin, self.collection.enricher)
        events, letters = decoder.decode(records)
        self.collection.board.read(target.id, lines=len(records), events=len(events), dead_letters=len(letters),
                                   flagged=sum(1 for e in events if "tags" in e),
                                   newest=max((e["@timestamp"] for e in events), default=None))
        return Batch(target.id, events, letters, {}, len(records))


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
    meta = meta if isinstance(meta, dict) else {}
    result: dict[str, Any] = {"_index": meta.get("_index", "canhgac"), "_id": meta.get("_id"), "status": status}
    if error is None:
        result.update({"result": "created", "_version": 1, "_shards": {"total": 1, "successful": 1, "failed": 0}})
    else:
        result["error"] = {"type": "illegal_argument_exception", "reason": error}
    return {verb: result}


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """``Content-Encoding: gzip`` (Fluent Bit ``Compress gzip``, Vector ``compression = "gzip"``), bounded."""
    if not encoding or encoding.lower() == "identity":
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
