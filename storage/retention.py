"""Retention of events and dead letters (docs/decisions/0036), applied each time a store is opened: the node,
the API and every command start by dropping what has aged out, on both stores."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from canhgac.storage.base import Store

log = logging.getLogger(__name__)


def cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=retention_days)


def apply_retention(store: Store, retention_days: int, *, now: datetime | None = None) -> int:
    """Delete events and dead letters older than ``retention_days``; returns how many went."""
    deleted = store.delete_expired(cutoff(retention_days, now))
    if deleted:
        log.info("retention: deleted %d events and dead letters older than %d days", deleted, retention_days)
    return deleted
