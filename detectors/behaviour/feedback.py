"""An analyst's word that a behaviour alert was expected work ("đợt cao điểm cấp đổi giấy tờ").

The record is kept in the store; the detector then learns the window into the entity's baseline: a replay
learns it when it reaches that window, live detection at its next run (the window is behind it by then).
A time-boxed suppression, if asked for, is made by the caller (the API) through the suppression service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from canhgac.core.model import Alert, to_utc_iso, utcnow
from canhgac.storage.base import Store

PREFIX = "behaviour-feedback:"


def mark_expected(store: Store, alert: Alert, *, reason: str, actor: str, learn: bool = True,
                  suppress_until: datetime | None = None, now: datetime | None = None) -> dict[str, Any]:
    details = alert.details
    record = {"alert_id": alert.id, "agency": alert.agency, "rule_id": alert.rule_id,
              "entity": details.get("entity", {}), "entities": dict(alert.entities),
              "window": details.get("window", {}), "counts": details.get("counts", {}),
              "verdict": "expected", "reason": reason, "actor": actor, "at": to_utc_iso(now or utcnow()),
              "learn": learn, "suppress_until": None if suppress_until is None else to_utc_iso(suppress_until),
              "applied": []}
    store.put_state(PREFIX + alert.id, record)
    return record


def feedback_for(store: Store, alert_id: str) -> dict[str, Any] | None:
    return store.get_state(PREFIX + alert_id)


def all_feedback(store: Store) -> dict[str, dict[str, Any]]:
    return {key.removeprefix(PREFIX): value for key, value in store.list_state(PREFIX, limit=10_000).items()}


def expected_windows(store: Store) -> set[str]:
    """Ids of the alerts whose window the baselines should learn."""
    return {alert_id for alert_id, record in all_feedback(store).items() if record.get("learn")}


def pending(store: Store, namespace: str) -> list[dict[str, Any]]:
    """Feedback to learn that this namespace has not learned yet, oldest first."""
    found = [r for r in all_feedback(store).values() if r.get("learn") and namespace not in r.get("applied", [])]
    return sorted(found, key=lambda r: (r.get("at", ""), r.get("alert_id", "")))


def applied(store: Store, record: dict[str, Any], namespace: str) -> None:
    store.put_state(PREFIX + record["alert_id"], {**record, "applied": [*record.get("applied", []), namespace]})
