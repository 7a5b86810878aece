from canhgac.storage.elasticsearch.store import ElasticsearchStore, client_from_settings

__all__ = ["ElasticsearchStore", "client_from_settings"]
