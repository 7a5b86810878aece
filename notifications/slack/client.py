from __future__ import annotations

from canhgac.core.config import SlackSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler


def slack_client(settings: SlackSettings, token: str) -> WebClient:
    """A client that waits out Slack's rate limits (429 + Retry-After) and retries dropped connections."""
    client = WebClient(token=token, base_url=settings.base_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return client
