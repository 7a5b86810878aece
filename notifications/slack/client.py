from __future__ import annotations

from canhgac.core.config import SlackSettings
from slack_sdk import WebClient

#: Seconds before a call is given up (its outcome unknown: the dispatcher looks the message up before resending).
TIMEOUT_SECONDS = 10


def slack_client(settings: SlackSettings, token: str, *, timeout: float = TIMEOUT_SECONDS) -> WebClient:
    """A client without retries of its own: the outbox dispatcher waits out 429s (``Retry-After``) and retries
    failures with back-off, keeping each channel's order and a record of what may already be posted."""
    client = WebClient(token=token, base_url=settings.base_url, timeout=int(timeout) or 1)
    client.retry_handlers.clear()
    return client
