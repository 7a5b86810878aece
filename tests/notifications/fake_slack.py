"""A local stand-in for the Slack Web API that records what it is sent (tests only, 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeSlack:
    def __init__(self, *, rate_limit_first: int = 0) -> None:
        self.requests: list[dict] = []  # type: ignore[type-arg]
        self.rate_limited = 0
        self._to_limit = rate_limit_first
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                if owner._to_limit > 0:
                    owner._to_limit -= 1
                    owner.rate_limited += 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": false, "error": "ratelimited"}')
                    return
                if self.headers.get("content-type", "").startswith("application/json"):
                    payload = json.loads(body)
                else:
                    payload = {k: v[0] for k, v in parse_qs(body).items()}
                owner.requests.append({"path": self.path, "auth": self.headers.get("authorization"), **payload})
                blocks = payload.get("blocks") or []
                problems = block_problems(json.loads(blocks) if isinstance(blocks, str) else blocks)
                answer = {"ok": True, "channel": payload.get("channel"), "ts": f"{len(owner.requests)}.0001"}
                if problems:  # Slack answers 200 with ok: false for blocks it refuses
                    answer = {"ok": False, "error": "invalid_blocks", "errors": problems}
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def block_problems(blocks: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """The Block Kit limits Slack enforces on what we send (text objects, sections, headers)."""
    problems: list[str] = []

    def text_object(node: dict, where: str, limit: int = 3000) -> None:  # type: ignore[type-arg]
        kind, text = node.get("type"), node.get("text")
        if kind not in ("plain_text", "mrkdwn") or not isinstance(text, str) or not 1 <= len(text) <= limit:
            problems.append(f"{where}: bad text object")
        elif ("emoji" in node and kind != "plain_text") or ("verbatim" in node and kind != "mrkdwn"):
            problems.append(f"{where}: option not allowed on {kind}")

    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if block.get("type") == "header":
            if block.get("text", {}).get("type") != "plain_text":
                problems.append(f"{where}: a header takes plain_text only")
            text_object(block.get("text", {}), where, 150)
        elif block.get("type") == "section":
            if "text" in block:
                text_object(block["text"], where)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: more than 10 fields")
            for n, field in enumerate(fields):
                text_object(field, f"{where}.fields[{n}]", 2000)
    return problems
