"""Log pushes reaching an API-only worker go on to the process that runs the pipeline (docs/decisions/0038), and so
do scrapes of /metrics: that process shows the ingest totals and every process's request counts.

With ``canhgac serve --workers N`` every worker answers the API from the shared store, but only the first process
runs collection: correlation windows, push rate buckets and the spool live there once. A worker therefore sends
each request under /api/v1/ingest, unchanged, to that process's private loopback listener and passes the answer
back; the request's body limit still applies here first (``RequestLimits`` sits outside this middleware)."""

from __future__ import annotations

import asyncio

from canhgac.api.limits import RequestTooLarge, is_ingest
from canhgac.api.metrics import METRICS_PATH
from canhgac.api.problems import problem
from starlette.types import ASGIApp, Receive, Scope, Send

#: Headers that describe one hop, not the request (RFC 9110 section 7.6.1), and the ones the relay sets itself.
HOP_HEADERS = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade",
                         b"proxy-connection", b"content-length", b"host", b"x-forwarded-for"})
RELAY_TIMEOUT = 60.0


class IngestRelay:
    def __init__(self, app: ASGIApp, *, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (is_ingest(scope["path"]) or scope["path"] == METRICS_PATH):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except RequestTooLarge as exc:
            await problem(413, exc.detail)(scope, receive, send)
            return
        try:
            status, headers, payload = await asyncio.wait_for(self._forward(scope, body), RELAY_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            await problem(503, "tiến trình thu thập không trả lời — the collecting process did not answer",
                          headers={"Retry-After": "5"})(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _forward(self, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            target = scope["raw_path"] or scope["path"].encode()
            if scope["query_string"]:
                target += b"?" + scope["query_string"]
            client = (scope.get("client") or ("",))[0]
            lines = [scope["method"].encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
                     b"Connection: close", b"Content-Length: " + str(len(body)).encode()]
            if client:
                lines.append(b"X-Forwarded-For: " + client.encode())
            lines += [name + b": " + value for name, value in scope["headers"] if name.lower() not in HOP_HEADERS]
            writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            payload = await reader.read()  # Connection: close, so the body ends with the stream
        finally:
            writer.close()
        status_line, *header_lines = head[:-4].split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = []
        head_only = scope["method"] == "HEAD"  # the length is the one a GET would have had: keep it
        for line in header_lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name not in HOP_HEADERS or (head_only and name == b"content-length"):
                headers.append((name, value.strip()))
        if not head_only:
            headers.append((b"content-length", str(len(payload)).encode()))
        return status, headers, payload


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
