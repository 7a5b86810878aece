"""What the store installs on the cluster at start: component and index templates, event data streams and
the retention policy — ILM on Elasticsearch, ISM on OpenSearch (docs/decisions/0036).

The two servers differ, so the store first finds out what it talks to (``detect``): the root endpoint's
``version.distribution``, then a probe of each feature. A server without data streams (osmem-server, the
test server) keeps events in plain indices of the same names; one without a lifecycle manager relies on
``Store.delete_expired`` alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from canhgac.storage.elasticsearch.mappings import (
    IN_PLACE_FAMILIES,
    INCIDENT_FACTS,
    events_pattern,
    family_mappings,
    nest,
)
from elasticsearch import ApiError, Elasticsearch

log = logging.getLogger(__name__)
Lifecycle = Literal["ilm", "ism"]
#: A month-named stream stops receiving lines soon after its month: roll it over so its data can age out.
ROLLOVER_AGE = "31d"
TEMPLATE_PRIORITY = 200


@dataclass(frozen=True)
class Cluster:
    """What the server supports, as found at start."""

    distribution: str  # "elasticsearch" or "opensearch"
    version: str
    data_streams: bool
    lifecycle: Lifecycle | None


def policy_name(prefix: str) -> str:
    return f"{prefix}-events-retention"


def _root(client: Elasticsearch) -> dict[str, Any]:
    info = client.info()
    return dict(info.body if hasattr(info, "body") else info)


def _answers(client: Elasticsearch, path: str) -> bool:
    """Whether ``GET path`` is an endpoint of this server (a 404 for a missing object still counts)."""
    try:
        client.perform_request("GET", path, headers={"accept": "application/json"})
        return True
    except ApiError as exc:
        return exc.meta.status == 404 and "no handler" not in str(exc.body)


def detect_lifecycle(client: Elasticsearch, distribution: str) -> Lifecycle | None:
    if distribution == "opensearch":
        return "ism" if _answers(client, "/_plugins/_ism/policies") else None
    return "ilm" if _answers(client, "/_ilm/status") else None


# templates --------------------------------------------------------------------------------------------------
def component_templates(prefix: str, lifecycle: Lifecycle | None) -> dict[str, dict[str, Any]]:
    """Shared settings, the lifecycle setting of events (ILM names its policy per index), one mapping per family."""
    out: dict[str, dict[str, Any]] = {
        f"{prefix}-settings": {"template": {"settings": {"index": {"mapping": {"total_fields": {"limit": 2000}}}}}},
    }
    if lifecycle == "ilm":
        out[f"{prefix}-events-lifecycle"] = {
            "template": {"settings": {"index": {"lifecycle": {"name": policy_name(prefix)}}}}}
    for family, mappings in family_mappings().items():
        out[f"{prefix}-{family}-mappings"] = {"template": {"mappings": mappings}}
    return out


def index_templates(prefix: str, *, data_streams: bool, lifecycle: Lifecycle | None) -> dict[str, dict[str, Any]]:
    """Events as data streams (append-only, ``@timestamp``); the other families as plain indices."""
    events_parts = [f"{prefix}-settings", f"{prefix}-events-mappings"]
    if lifecycle == "ilm":
        events_parts.append(f"{prefix}-events-lifecycle")
    events: dict[str, Any] = {"index_patterns": [events_pattern(prefix)], "composed_of": events_parts,
                              "priority": TEMPLATE_PRIORITY}
    if data_streams:
        events["data_stream"] = {}
    out = {f"{prefix}-events": events}
    for family in IN_PLACE_FAMILIES:
        out[f"{prefix}-{family}"] = {"index_patterns": [f"{prefix}-{family}", f"{prefix}-{family}-*"],
                                     "composed_of": [f"{prefix}-settings", f"{prefix}-{family}-mappings"],
                                     "priority": TEMPLATE_PRIORITY}
    return out


# lifecycle policies -----------------------------------------------------------------------------------------
def ilm_policy(retention_days: int) -> dict[str, Any]:
    """Roll a stream over once its month is past, delete a backing index ``retention_days`` after that."""
    return {"phases": {
        "hot": {"actions": {"rollover": {"max_age": ROLLOVER_AGE, "max_primary_shard_size": "50gb"}}},
        "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}},
    }}


def ism_policy(prefix: str, retention_days: int) -> dict[str, Any]:
    """The same lifecycle in OpenSearch's Index State Management, attached to new backing indices."""
    return {
        "description": f"Canh Gác: keep events {retention_days} days after their stream rolls over",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [{"rollover": {"min_index_age": ROLLOVER_AGE}}],
             "transitions": [{"state_name": "delete", "conditions": {"min_rollover_age": f"{retention_days}d"}}]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": [f".ds-{events_pattern(prefix)}", events_pattern(prefix)],
                          "priority": 100}],
    }


def _install_policy(client: Elasticsearch, prefix: str, lifecycle: Lifecycle, retention_days: int) -> None:
    name = policy_name(prefix)
    if lifecycle == "ilm":
        client.ilm.put_lifecycle(name=name, policy=ilm_policy(retention_days))
        return
    path = f"/_plugins/_ism/policies/{name}"
    headers = {"accept": "application/json", "content-type": "application/json"}
    body: dict[str, Any] = {"policy": ism_policy(prefix, retention_days)}
    params: dict[str, Any] = {}
    try:  # ISM replaces a policy only when told the version it replaces
        current = client.perform_request("GET", path, headers=headers)
        params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
    except ApiError as exc:
        if exc.meta.status != 404:
            raise
    client.perform_request("PUT", path, headers=headers, body=body, params=params)


# data streams -----------------------------------------------------------------------------------------------
def _probe_data_streams(client: Elasticsearch, prefix: str) -> bool:
    """Create and drop a stream under the events template: a server may accept the template and still refuse
    the stream (osmem-server does)."""
    probe = f"{prefix}-events-setup_probe-0000.00"
    try:
        client.indices.create_data_stream(name=probe)
    except ApiError as exc:
        if "already_exists" not in str(exc.body) and "already exists" not in str(exc.body):
            log.info("data streams unavailable (%s): events go to plain indices", exc.meta.status)
            return False
    try:
        client.indices.delete_data_stream(name=probe)
    except ApiError:
        log.warning("could not remove the probe data stream %s", probe)
    return True


def install(client: Elasticsearch, prefix: str, *, retention_days: int | None = None) -> Cluster:
    """Install everything the store needs and return what the server supports; safe to run again."""
    root = _root(client)
    version = root.get("version", {})
    distribution = str(version.get("distribution") or "elasticsearch")
    lifecycle = detect_lifecycle(client, distribution) if retention_days is not None else None
    if lifecycle is not None:
        assert retention_days is not None
        try:
            _install_policy(client, prefix, lifecycle, retention_days)
        except ApiError as exc:  # e.g. no privilege to manage policies: retention falls to delete_expired
            log.warning("could not install the %s retention policy (%s): retention runs at start only",
                        lifecycle.upper(), exc.meta.status)
            lifecycle = None
    for name, body in component_templates(prefix, lifecycle).items():
        client.cluster.put_component_template(name=name, **body)
    templates = index_templates(prefix, data_streams=True, lifecycle=lifecycle)
    for name, body in templates.items():
        client.indices.put_index_template(name=name, **body)
    data_streams = _probe_data_streams(client, prefix)
    if not data_streams:
        plain = index_templates(prefix, data_streams=False, lifecycle=lifecycle)[f"{prefix}-events"]
        client.indices.put_index_template(name=f"{prefix}-events", **plain)
    for family in IN_PLACE_FAMILIES:
        _create_index(client, f"{prefix}-{family}")
    # An incidents index made before the posture facts (0046) learns their types before they are backfilled.
    client.indices.put_mapping(index=f"{prefix}-incidents", properties=nest(INCIDENT_FACTS))
    return Cluster(distribution=distribution, version=str(version.get("number", "")), data_streams=data_streams,
                   lifecycle=lifecycle)


def _create_index(client: Elasticsearch, name: str) -> None:
    if client.indices.exists(index=name):
        return
    try:
        client.indices.create(index=name)
    except ApiError as exc:  # created meanwhile by another process
        if "resource_already_exists" not in str(exc.body):
            raise


def delete_expired(client: Elasticsearch, prefix: str, before: datetime) -> int:
    """Delete events and dead letters older than ``before`` (what a lifecycle policy has not yet removed)."""
    cutoff = before.astimezone(UTC).isoformat().replace("+00:00", "Z")
    deleted = 0
    for index, field_name in ((events_pattern(prefix), "@timestamp"), (f"{prefix}-deadletters", "received")):
        response = client.delete_by_query(index=index, query={"range": {field_name: {"lt": cutoff}}},
                                          conflicts="proceed", refresh=True, ignore_unavailable=True,
                                          allow_no_indices=True)
        deleted += int(response.get("deleted", 0))
    return deleted
