"""Shared fixtures. ``store`` runs a test once per backend: SQLite, and Elasticsearch through the official
client — against osmem-server by default, or a real cluster when CANHGAC_TEST_ES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from canhgac.core.config import EXAMPLE_CONFIG, Settings, load_settings
from canhgac.storage.base import Store

ROOT = Path(__file__).resolve().parent.parent
REAL_ES_URL = os.environ.get("CANHGAC_TEST_ES_URL")
# The commands under test run as subprocesses, hundreds of times: with compiled modules kept they start
# ~0.5 s sooner than when every start compiles canhgac's sources again (some machines set this variable).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

_backend_results: Counter[tuple[str, str]] = Counter()


@pytest.fixture(scope="session")
def example_settings() -> Settings:
    """The example configuration, parsed once: reading it with line numbers costs ~0.1 s, in almost every test."""
    return load_settings(EXAMPLE_CONFIG)


@pytest.fixture
def settings(example_settings: Settings) -> Settings:
    # A deep copy per test: whatever one test changes in its settings never reaches the next.
    return example_settings.model_copy(deep=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CANHGAC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CANHGAC_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return tmp_path / "home"


def es_client(url: str):  # type: ignore[no-untyped-def]
    from elasticsearch import Elasticsearch

    if REAL_ES_URL:
        return Elasticsearch(url, verify_certs=os.environ.get("CANHGAC_TEST_ES_VERIFY", "1") != "0")
    # osmem refuses the client's compatibility mime type; serverless mode sends plain JSON.
    return Elasticsearch(url, server_mode="serverless")


@pytest.fixture
def es_url(request: pytest.FixtureRequest) -> str:
    if REAL_ES_URL:
        return REAL_ES_URL
    clone = request.getfixturevalue("osmem_clone")
    return clone.url


@pytest.fixture
def elasticsearch_store(es_url: str) -> Iterator[Store]:
    from canhgac.storage.elasticsearch import ElasticsearchStore

    prefix = f"cgtest-{uuid.uuid4().hex[:10]}" if REAL_ES_URL else "canhgac"
    client = es_client(es_url)
    store = ElasticsearchStore(client, index_prefix=prefix)
    yield store
    if REAL_ES_URL:
        # Event data streams first: their backing indices cannot be deleted one by one.
        client.options(ignore_status=404).indices.delete_data_stream(name=f"{prefix}-*")
        client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        for name in client.indices.get_index_template(name=f"{prefix}-*").get("index_templates", []):
            client.indices.delete_index_template(name=name["name"])
        client.options(ignore_status=404).cluster.delete_component_template(name=f"{prefix}-*")
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    from canhgac.storage.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "store" / "canhgac.db")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-xdist schedules by node id: two items sharing one would run once and the run would still pass
    (docs/decisions/0048), so a repeated id stops the run instead."""
    repeated = [nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1]
    if repeated:
        raise pytest.UsageError(f"tests share a node id and would run once: {', '.join(repeated[:5])}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for backend in ("sqlite", "elasticsearch"):
        if f"[{backend}" in report.nodeid:
            _backend_results[(backend, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not _backend_results:
        return
    target = f"real cluster {REAL_ES_URL}" if REAL_ES_URL else "osmem-server"
    terminalreporter.section("storage backends")
    for backend in ("sqlite", "elasticsearch"):
        counts = ", ".join(f"{n} {outcome}" for (b, outcome), n in sorted(_backend_results.items()) if b == backend)
        label = f"{backend} ({target})" if backend == "elasticsearch" else backend
        terminalreporter.write_line(f"{label}: {counts or 'not run'}")
