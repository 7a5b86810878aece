"""Events packed ahead by the decoding process (``Store.pack_events``, docs/decisions/0037) store as the events
themselves do, on both stores, and still read as the events."""

from __future__ import annotations

from canhgac.storage.base import EventQuery, Store

from tests.detectors.support import web_event


def test_packed_events_store_as_the_events_do(store: Store) -> None:
    events = [web_event({"event.id": f"packed-{n}", "url.path": f"/p/{n}", "http.response.status_code": 200 + n})
              for n in range(5)]
    packed = store.pack_events(events[:3])
    assert len(packed) == 3 and list(packed) == events[:3] and packed[1:] == events[1:3]
    assert store.put_events(packed) == 3
    assert store.put_events(store.pack_events(events)) == 2  # the first three are repeats
    store.refresh()
    assert sorted(store.search_events(EventQuery()), key=lambda e: e["event.id"]) == events
    assert store.get_event("packed-4") == events[4]
