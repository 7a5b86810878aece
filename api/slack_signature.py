"""Requests from Slack prove themselves with a signature, not an API key: ``X-Slack-Signature`` is ``v0=`` and the
hex HMAC-SHA256, keyed with the app's signing secret, of ``v0:{X-Slack-Request-Timestamp}:{raw body}``.

The headers are checked before the body is read (a caller without them gets its 401 at once, as on the API-key
routes, see limits.py); a timestamp more than five minutes from our clock is refused, so a recorded request
cannot be replayed later; the comparison takes the same time whatever the signature. A refusal is a 401 problem
that names the header at fault, and the route behind it never runs."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from canhgac.api.deps import ClockDep, SettingsDep
from canhgac.core.config import Settings
from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import APIKeyHeader

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
VERSION = "v0"
MAX_SKEW = timedelta(minutes=5)

_signature_header = APIKeyHeader(
    name=SIGNATURE_HEADER, scheme_name="SlackSignature", auto_error=False,
    description="v0= and the hex HMAC-SHA256 of v0:{X-Slack-Request-Timestamp}:{body} with the Slack app's "
                "signing secret")


class SignatureRefused(HTTPException):
    def __init__(self, header: str, reason_vi: str, reason_en: str) -> None:
        super().__init__(401, f"{header}: {reason_vi} — {reason_en}",
                         headers={"WWW-Authenticate": f'SlackSignature header="{SIGNATURE_HEADER}"'})
        self.header = header


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def check_timestamp(timestamp: str | None, now: datetime) -> None:
    if not timestamp:
        raise SignatureRefused(TIMESTAMP_HEADER, "thiếu thời điểm gửi", "the request time is missing")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused(TIMESTAMP_HEADER, "không phải số giây Unix", "not a Unix time in seconds")
    sent = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - sent) > MAX_SKEW:
        raise SignatureRefused(TIMESTAMP_HEADER, "yêu cầu quá cũ hoặc ở tương lai (lệch quá 5 phút)",
                               "the request is older than 5 minutes, or in the future")


def check_signature(secret: str, timestamp: str, body: bytes, presented: str) -> None:
    if not hmac.compare_digest(signature_of(secret, timestamp, body).encode(), presented.encode("utf-8", "replace")):
        raise SignatureRefused(SIGNATURE_HEADER, "chữ ký không khớp", "the signature does not match")


def signing_secret(settings: Settings, environ: Callable[[str], str | None] = os.environ.get) -> str | None:
    """Read at each request, so a rotated secret takes effect without a restart."""
    slack = settings.notifications.slack
    return (environ(slack.signing_secret_env) or None) if slack is not None else None


async def signed_slack_body(request: Request, settings: SettingsDep, clock: ClockDep,
                            signature: Annotated[str | None, Depends(_signature_header)],
                            timestamp: Annotated[str | None, Header(alias=TIMESTAMP_HEADER, include_in_schema=False)]
                            = None) -> bytes:
    """The raw body of a request Slack signed; refused (401) before the body is read when a header is wrong."""
    if not signature:
        raise SignatureRefused(SIGNATURE_HEADER, "thiếu chữ ký", "the signature is missing")
    if not signature.startswith(f"{VERSION}="):
        raise SignatureRefused(SIGNATURE_HEADER, "phiên bản chữ ký không được hỗ trợ", "unsupported signature version")
    check_timestamp(timestamp, clock())
    secret = signing_secret(settings)
    if secret is None:
        raise SignatureRefused(SIGNATURE_HEADER, "máy chủ chưa cấu hình khóa ký của ứng dụng Slack",
                               "no Slack signing secret is configured on the server")
    body = await request.body()
    assert timestamp is not None  # checked above
    check_signature(secret, timestamp, body, signature)
    return body


SignedSlackBody = Annotated[bytes, Depends(signed_slack_body)]
