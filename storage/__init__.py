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
        return ElasticsearchStore(client_from_settings(es), index_prefix=es.index_prefix)
    from canhgac.storage.sqlite import SqliteStore

    path = home_dir() / settings.store.sqlite.path
    return SqliteStore(path)
