"""Retention on both stores: events and dead letters older than the cut-off go; alerts, incidents, audit stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from canhgac.core.config import EXAMPLE_CONFIG, parse_settings
from canhgac.core.errors import ConfigErrors
from canhgac.core.model import AuditEntry, DeadLetter, to_utc_iso, utcnow
from canhgac.storage import open_store
from canhgac.storage.base import AlertQuery, EventQuery, IncidentQuery, Store
from canhgac.storage.retention import apply_retention

from tests.storage.test_contract import T0, make_alert, make_event, make_incident


def _letter(n: int, days_before: int) -> DeadLetter:
    return DeadLetter(id=f"dl-{n}", received=T0 - timedelta(days=days_before), source_format="nginx",
                      path="/var/log/a.log", offset=n, reason="không đọc được", raw=f"rác {n}", agency="binhdinh")


def test_old_events_and_dead_letters_go_the_rest_stays(store: Store) -> None:
    old = [make_event(n, minutes=-60 * 24 * 40) for n in range(3)]  # 40 days before T0
    recent = [make_event(n, minutes=-60 * 24 * 5) for n in range(3, 5)]
    store.put_events(old + recent)
    store.put_dead_letters([_letter(1, 40), _letter(2, 1)])
    store.put_alerts([make_alert(1, minutes=-60 * 24 * 40)])
    store.create_incident(make_incident("BD-2026-0001", minutes=-60 * 24 * 40))
    store.append_audit(AuditEntry(id="a1", at=T0 - timedelta(days=40), actor="system", action="incident.create",
                                  object_type="incident", object_id="BD-2026-0001", agency="binhdinh"))
    store.refresh()

    deleted = apply_retention(store, 30, now=T0)

    store.refresh()
    assert deleted == 4
    remaining = store.search_events(EventQuery(limit=10))
    assert sorted(e["event.id"] for e in remaining) == sorted(e["event.id"] for e in recent)
    assert store.get_event(old[0]["event.id"]) is None
    assert [d.id for d in store.search_dead_letters()] == ["dl-2"]
    assert len(store.search_alerts(AlertQuery())) == 1
    assert store.count_incidents(IncidentQuery()) == 1
    assert len(store.list_audit()) == 1
    assert apply_retention(store, 30, now=T0) == 0


def test_deleted_events_leave_the_free_text_search(store: Store) -> None:
    old = make_event(1, minutes=-60 * 24 * 45, ip="198.51.100.7")
    kept = make_event(2, minutes=0, ip="198.51.100.7")
    store.put_events([old, kept])
    store.refresh()
    assert store.count_events(EventQuery(text="198.51.100.7")) == 2
    apply_retention(store, 30, now=T0)
    store.refresh()
    assert [e["event.id"] for e in store.search_events(EventQuery(text="198.51.100.7"))] == [kept["event.id"]]
    store.put_events([make_event(3, minutes=1, ip="198.51.100.7")])  # writing after a deletion still indexes
    store.refresh()
    assert store.count_events(EventQuery(text="198.51.100.7")) == 2


EXAMPLE = EXAMPLE_CONFIG.read_text()


def _with_retention(value: str) -> str:
    """The example configuration with ``retention_days`` in its store block."""
    assert "\nstore:\n" in EXAMPLE
    return EXAMPLE.replace("\nstore:\n", f"\nstore:\n  retention_days: {value}\n", 1)


@pytest.mark.parametrize("days", ["1", "29", "0", "-5"])
def test_retention_under_thirty_days_is_refused_naming_the_field(days: str) -> None:
    text = _with_retention(days)
    with pytest.raises(ConfigErrors) as caught:
        parse_settings(text, "canhgac.yaml")
    [error] = caught.value.errors
    assert error.field == "store.retention_days"
    assert "at least 30" in str(error)
    assert error.line == text.splitlines().index(f"  retention_days: {days}") + 1


def test_retention_of_thirty_days_or_more_is_accepted() -> None:
    assert parse_settings(_with_retention("30"), "canhgac.yaml").store.retention_days == 30
    assert parse_settings(_with_retention("365"), "canhgac.yaml").store.retention_days == 365
    assert parse_settings(EXAMPLE, "canhgac.yaml").store.retention_days is None


def test_opening_a_store_applies_the_configured_retention(home: object) -> None:
    settings = parse_settings(_with_retention("30"), "canhgac.yaml")
    first = open_store(settings)
    aged = make_event(1, minutes=-60 * 24 * 400)  # long before any run of this test
    fresh = {**make_event(2), "@timestamp": to_utc_iso(utcnow())}
    first.put_events([aged, fresh])
    first.close()
    again = open_store(settings)
    assert again.get_event(aged["event.id"]) is None
    assert again.get_event(fresh["event.id"]) == fresh
    again.close()
    kept = open_store(parse_settings(EXAMPLE, "canhgac.yaml"))  # no retention configured: nothing goes
    kept.put_events([aged])
    kept.close()
    assert open_store(parse_settings(EXAMPLE, "canhgac.yaml")).get_event(aged["event.id"]) == aged
