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
                answer = {"ok": True, "channel": payload.get("channel"), "ts": f"{len(owner.requests)}.0001"}
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
