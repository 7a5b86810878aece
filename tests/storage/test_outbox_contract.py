"""The chat outbox contract, on SQLite and on Elasticsearch: notices survive until removed, in order, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from canhgac.storage.base import Store
from canhgac.storage.outbox import ChatNotice

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def notice(n: int, channel: str = "#soc", *, seconds: float | None = None, kind: str = "post") -> ChatNotice:
    return ChatNotice(id=f"{channel}|BDH-2026-{n:06d}|{kind}", channel=channel, kind=kind,  # type: ignore[arg-type]
                      incident_id=f"BDH-2026-{n:06d}", agency="binhdinh",
                      created=T0 + timedelta(seconds=n if seconds is None else seconds), text=f"sự cố {n}",
                      blocks=[{"type": "section", "text": {"type": "plain_text", "text": f"sự cố {n}"}}])


def test_a_notice_written_twice_is_kept_once(store: Store) -> None:
    assert store.put_chat_notices([notice(1), notice(2)]) == 2
    assert store.put_chat_notices([notice(2), notice(3)]) == 1
    assert [n.id for n in store.list_chat_notices()] == ["#soc|BDH-2026-000001|post", "#soc|BDH-2026-000002|post",
                                                         "#soc|BDH-2026-000003|post"]
    assert store.list_chat_notices()[0] == notice(1)  # read back whole


def test_notices_are_listed_oldest_first_per_channel(store: Store) -> None:
    # Written out of order, within the same millisecond too (microseconds decide), ties by id.
    store.put_chat_notices([notice(3, seconds=0.0003), notice(1, seconds=0.0001), notice(9, "#khac", seconds=0),
                            notice(2, seconds=0.0002), notice(5, seconds=0.0003, kind="reply")])
    assert [n.incident_id for n in store.list_chat_notices(channel="#soc")] == [
        "BDH-2026-000001", "BDH-2026-000002", "BDH-2026-000003", "BDH-2026-000005"]
    assert [n.id for n in store.list_chat_notices(channel="#khac")] == ["#khac|BDH-2026-000009|post"]
    assert len(store.list_chat_notices()) == 5 and len(store.list_chat_notices(limit=2)) == 2


def test_a_removed_notice_is_never_listed_again(store: Store) -> None:
    store.put_chat_notices([notice(1), notice(2)])
    store.delete_chat_notice("#soc|BDH-2026-000001|post")
    store.delete_chat_notice("#soc|BDH-2026-000001|post")  # gone already: not an error
    assert [n.id for n in store.list_chat_notices()] == ["#soc|BDH-2026-000002|post"]
    # Once delivered and removed, the same id may be written again (the dispatcher keeps its own record of it).
    assert store.put_chat_notices([notice(1)]) == 1


def test_delivery_state_is_kept(store: Store) -> None:
    store.put_chat_notices([notice(1)])
    [waiting] = store.list_chat_notices()
    failed = waiting.model_copy(update={"attempts": 3, "error": "not_in_channel", "error_at": T0,
                                        "not_before": T0 + timedelta(minutes=5), "sending_since": T0})
    store.update_chat_notice(failed)
    assert store.list_chat_notices() == [failed]
    assert store.put_chat_notices([notice(1)]) == 0 and store.list_chat_notices() == [failed]  # not reset


def test_notices_outlive_the_store_object(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store.put_chat_notices([notice(1), notice(2, "#khac")])
    if store.kind == "sqlite":
        from canhgac.storage.sqlite import SqliteStore

        reopened: Store = SqliteStore(store.path)  # type: ignore[attr-defined]
    else:
        from canhgac.storage.elasticsearch import ElasticsearchStore

        reopened = ElasticsearchStore(store.client, index_prefix=store.prefix)  # type: ignore[attr-defined]
    assert [n.id for n in reopened.list_chat_notices()] == ["#soc|BDH-2026-000001|post", "#khac|BDH-2026-000002|post"]
