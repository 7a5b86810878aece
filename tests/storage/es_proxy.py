"""A local HTTP proxy in front of osmem-server (or any cluster on 127.0.0.1) that counts requests and can
inject faults: a status answered instead of forwarding, some bulk items refused with 429, or the connection
cut after the request reached the server. Used by the fault tests and by ``bench/es_requests.py``."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes

    @property
    def forces_refresh(self) -> bool:
        value = self.query.get("refresh", [None])[0]
        return self.path.rstrip("/").endswith("/_refresh") or value in ("", "true", "wait_for")

    @property
    def is_bulk(self) -> bool:
        return self.path.rstrip("/").endswith("/_bulk")

    @property
    def bulk_actions(self) -> int:
        return sum(1 for line in _bulk_lines(self.body) if _action_of(line) is not None) if self.is_bulk else 0


@dataclass(frozen=True)
class Fault:
    """What to do with one request: answer ``status`` without forwarding, refuse the bulk items at
    ``refuse_items`` (positions) with 429 and forward the rest, or forward it and then ``cut`` the
    connection without answering."""

    status: int | None = None
    refuse_items: frozenset[int] = frozenset()
    cut: bool = False
    item_status: int = 429  # what the refused items answer (400: a mapping error)


FaultPlan = Callable[[Seen], Fault | None]


@dataclass
class EsProxy:
    upstream: str  # http://127.0.0.1:PORT
    plan: FaultPlan | None = None
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EsProxy:
        proxy = self
        target = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), body)
                with proxy._lock:
                    proxy.seen.append(seen)
                fault = proxy.plan(seen) if proxy.plan is not None else None
                if fault is not None and fault.status is not None:
                    self._answer(fault.status, json.dumps(_error_body(fault.status)).encode())
                    return
                refused = fault.refuse_items if fault is not None and seen.is_bulk else frozenset()
                forward_body, kept = _without_items(body, refused) if refused else (body, None)
                if kept is not None and not kept:
                    status, payload = 200, json.dumps({"errors": False, "took": 0, "items": []}).encode()
                else:
                    status, payload = _forward(target.hostname or "127.0.0.1", target.port or 80, self.command,
                                               self.path, forward_body, self.headers)
                if kept is not None:
                    payload = _refused_response(body, payload, refused, fault.item_status if fault else 429)
                if fault is not None and fault.cut:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._answer(status, payload)

            def _answer(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


_local = threading.local()


def _forward(host: str, port: int, method: str, path: str, body: bytes, headers: object) -> tuple[int, bytes]:
    connection: http.client.HTTPConnection | None = getattr(_local, "connection", None)
    if connection is None or (connection.host, connection.port) != (host, port):
        connection = http.client.HTTPConnection(host, port, timeout=60)
        _local.connection = connection
    wanted = {"content-type", "accept", "authorization"}
    sent = {k: v for k, v in headers.items() if k.lower() in wanted}  # type: ignore[attr-defined]
    for attempt in range(2):
        try:
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _error_body(status: int) -> dict[str, object]:
    kind = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
    return {"error": {"type": kind, "reason": f"injected {status}"}, "status": status}


def _bulk_lines(body: bytes) -> list[bytes]:
    return [line for line in body.split(b"\n") if line.strip()]


def _action_of(line: bytes) -> str | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    if isinstance(parsed, dict) and len(parsed) == 1:
        name = next(iter(parsed))
        if name in ("create", "index", "update", "delete"):
            return name
    return None


def _items(body: bytes) -> list[list[bytes]]:
    """Bulk body → its items, each an action line and (except delete) a source line."""
    items: list[list[bytes]] = []
    lines = _bulk_lines(body)
    index = 0
    while index < len(lines):
        action = _action_of(lines[index])
        width = 1 if action == "delete" else 2
        items.append(lines[index:index + width])
        index += width
    return items


def _without_items(body: bytes, refused: frozenset[int]) -> tuple[bytes, list[int]]:
    items = _items(body)
    kept = [n for n in range(len(items)) if n not in refused]
    return b"".join(line + b"\n" for n in kept for line in items[n]), kept


def _refused_response(body: bytes, payload: bytes, refused: frozenset[int], status: int) -> bytes:
    """The upstream answer for the forwarded items, with refused items put back at their positions."""
    items = _items(body)
    answered = iter(json.loads(payload).get("items", []) if payload else [])
    out = []
    for n, item in enumerate(items):
        if n in refused:
            action = _action_of(item[0]) or "index"
            meta = json.loads(item[0])[action]
            kind = "es_rejected_execution_exception" if status == 429 else "document_parsing_exception"
            out.append({action: {"_index": meta.get("_index"), "_id": meta.get("_id"), "status": status,
                                 "error": {"type": kind, "reason": "injected"}}})
        else:
            out.append(next(answered))
    return json.dumps({"took": 1, "errors": True, "items": out}).encode()
