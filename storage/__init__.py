"""The store: one interface (``storage.base.Store``), two implementations (SQLite, Elasticsearch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from canhgac.core.config import Settings
    from canhgac.storage.base import Store


def open_store(settings: Settings) -> Store:
    """The store the configuration asks for, ready to use."""
    from canhgac.core.config import home_dir

    if settings.store.kind == "elasticsearch":
        from canhgac.storage.elasticsearch import ElasticsearchStore, client_from_settings

        assert settings.store.elasticsearch is not None
        es = settings.store.elasticsearch
        store: Store = ElasticsearchStore(client_from_settings(es), index_prefix=es.index_prefix,
                                          retention_days=settings.store.retention_days)
    else:
        from canhgac.storage.sqlite import SqliteStore

        store = SqliteStore(home_dir() / settings.store.sqlite.path)
    if settings.store.retention_days is not None:
        from canhgac.storage.retention import apply_retention

        apply_retention(store, settings.store.retention_days)
    return store
