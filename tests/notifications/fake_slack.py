"""A local stand-in for the Slack Web API that records what it is sent (tests only, 127.0.0.1).

It keeps the messages it accepted per channel (``ts``, ``thread_ts``, ``metadata``), answers ``chat.postMessage``,
``chat.update``, ``conversations.history`` and ``conversations.replies`` like Slack, and can misbehave on purpose:
``mode`` ``"ratelimit_every_other"`` (HTTP 429 with ``Retry-After`` for every other call), ``"error500"``,
``"not_in_channel"``, ``"hang"`` (accepts the message, then answers too late). ``stop()`` and ``start()`` take it
down and bring it back on the same port with what it had accepted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)  # every chat.update, in order

    @property
    def notice_id(self) -> str | None:
        return ((self.metadata or {}).get("event_payload") or {}).get("notice_id")


class FakeSlack:
    def __init__(self, *, rate_limit_first: int = 0, mode: str | None = None, retry_after: int = 0,
                 port: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.requests: list[dict[str, Any]] = []  # every call answered (not the refused ones), in order
        self.messages: list[Posted] = []  # every message accepted, in order
        self.rate_limited = 0
        self.refused = 0  # calls answered with an error (429, 500, ok: false)
        self.log: list[tuple[str, float, int]] = []  # every call: method, clock time, HTTP status
        self.mode = mode
        self.retry_after = retry_after
        self.hang_seconds = 0.0
        self._to_limit = rate_limit_first
        self._clock = clock  # message timestamps (ts), as Slack gives them: seconds since the epoch
        self._last_ts = 0.0
        self._calls = 0
        self._lock = threading.Lock()
        self._port = port
        self.server: ThreadingHTTPServer | None = None
        self.start()

    # lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                if self.headers.get("content-type", "").startswith("application/json"):
                    payload = json.loads(body) if body else {}
                else:
                    payload = {k: v[0] for k, v in parse_qs(body).items()}
                owner._answer(self, urlsplit(self.path).path, payload)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                owner._answer(self, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # type: ignore[attr-defined]  # a hanging answer must not hold stop()
        self._stopped = threading.Event()
        self._port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()  # quick stop()

    def stop(self) -> None:
        self._stopped.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    close = stop

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/"

    # views for tests ----------------------------------------------------------------------------
    def in_channel(self, channel: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == f"/api/{method}"]

    # answering ----------------------------------------------------------------------------------
    def _answer(self, handler: BaseHTTPRequestHandler, path: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._calls += 1
            refusal = self._refusal()
            if refusal is not None:
                self.refused += 1
                status, headers, answer = refusal
            else:
                self.requests.append({"path": path, "auth": handler.headers.get("authorization"), **payload})
                status, headers, answer = 200, {}, self._method(path.rsplit("/", 1)[-1], payload)
            self.log.append((path.rsplit("/", 1)[-1], self._clock(), status))
        if self.mode == "hang" and refusal is None:
            self._stopped.wait(self.hang_seconds)
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "application/json")
            handler.end_headers()
            handler.wfile.write(json.dumps(answer).encode())
        except OSError:
            return  # the client gave up (timeout)

    def _refusal(self) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        if self._to_limit > 0 or (self.mode == "ratelimit_every_other" and self._calls % 2 == 1):
            self._to_limit = max(0, self._to_limit - 1)
            self.rate_limited += 1
            return 429, {"Retry-After": str(self.retry_after)}, {"ok": False, "error": "ratelimited"}
        if self.mode == "error500":
            return 500, {}, {"ok": False, "error": "internal_error"}
        if self.mode == "not_in_channel":
            return 200, {}, {"ok": False, "error": "not_in_channel"}
        return None

    def _method(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            blocks = _json(payload.get("blocks")) or []
            problems = block_problems(blocks)
            if problems:  # Slack answers 200 with ok: false for blocks it refuses
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
            self._last_ts = max(self._last_ts + 0.000001, self._clock())
            ts = f"{self._last_ts:.6f}"
            self.messages.append(Posted(channel=payload["channel"], ts=ts, text=payload.get("text", ""),
                                        blocks=blocks, thread_ts=payload.get("thread_ts"),
                                        metadata=_json(payload.get("metadata"))))
            return {"ok": True, "channel": payload["channel"], "ts": ts}
        if method == "chat.update":
            target = next((m for m in self.messages if m.channel == payload.get("channel")
                           and m.ts == payload.get("ts")), None)
            if target is None:
                return {"ok": False, "error": "message_not_found"}
            blocks = _json(payload.get("blocks")) or []
            problems = block_problems(blocks)
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
            target.updates.append({"text": payload.get("text", ""), "blocks": blocks})
            return {"ok": True, "channel": target.channel, "ts": target.ts}
        if method in ("conversations.history", "conversations.replies"):
            channel = payload.get("channel")
            if method == "conversations.history":
                found = [m for m in self.messages if m.channel == channel and m.thread_ts is None]
            else:
                parent = payload.get("ts")
                found = [m for m in self.messages if m.channel == channel and (m.ts == parent or m.thread_ts == parent)]
            oldest = float(payload.get("oldest") or 0)
            found = [m for m in found if float(m.ts) >= oldest]
            with_metadata = str(payload.get("include_all_metadata", "")).lower() in ("1", "true")
            return {"ok": True, "has_more": False, "messages": [
                {"type": "message", "ts": m.ts, "text": m.text, **({"thread_ts": m.thread_ts} if m.thread_ts else {}),
                 **({"metadata": m.metadata} if with_metadata and m.metadata else {})}
                for m in reversed(found)]}  # newest first, as Slack lists history
        return {"ok": True}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def block_problems(blocks: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """The Block Kit limits Slack enforces on what we send (text objects, sections, headers)."""
    problems: list[str] = []

    def text_object(node: dict, where: str, limit: int = 3000) -> None:  # type: ignore[type-arg]
        kind, text = node.get("type"), node.get("text")
        if kind not in ("plain_text", "mrkdwn") or not isinstance(text, str) or not 1 <= len(text) <= limit:
            problems.append(f"{where}: bad text object")
        elif ("emoji" in node and kind != "plain_text") or ("verbatim" in node and kind != "mrkdwn"):
            problems.append(f"{where}: option not allowed on {kind}")

    if len(blocks) > 50:
        problems.append("more than 50 blocks")
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if block.get("type") == "header":
            if block.get("text", {}).get("type") != "plain_text":
                problems.append(f"{where}: a header takes plain_text only")
            text_object(block.get("text", {}), where, 150)
        elif block.get("type") in ("section", "context"):
            if "text" in block:
                text_object(block["text"], where)
            for n, element in enumerate(block.get("elements", [])):
                text_object(element, f"{where}.elements[{n}]")
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: more than 10 fields")
            for n, item in enumerate(fields):
                text_object(item, f"{where}.fields[{n}]", 2000)
        elif block.get("type") == "actions" and not block.get("elements"):
            problems.append(f"{where}: an actions block needs elements")
    return problems
