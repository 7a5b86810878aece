"""What an Elasticsearch ``_bulk`` action says about its document: the format its ``_index`` names, and the id
its ``_id`` gives (docs/decisions/0044)."""

from __future__ import annotations

import hashlib

from canhgac.core.model import DeadLetter, Event

#: Data stream datasets (``logs-<dataset>-<namespace>``) whose format is not their first word.
DATASET_FORMATS = {"system.auth": "auth", "system.syslog": "syslog", "fortinet_fortigate.log": "fortigate",
                   "fortinet.firewall": "fortigate", "iptables.log": "netfilter", "modsecurity.audit": "modsecurity"}


def index_formats(index: str) -> list[str]:
    """The format names an ``_index`` may mean, most specific first: a data stream ``logs-<dataset>-<namespace>``
    (``logs-nginx.access-quynhon``) names its dataset, known ones mapped by ``DATASET_FORMATS``; another index
    names a format whole or before its first ``-`` (``nginx``, ``auth-2026.12.02``)."""
    name = index.lower()
    parts = name.split("-")
    if len(parts) == 3 and parts[0] == "logs" and parts[1]:
        dataset = parts[1]
        names = [DATASET_FORMATS.get(dataset), dataset, dataset.split(".")[0]]
    else:
        names = [name, parts[0]]
    return list(dict.fromkeys(n for n in names if n))


def sender_event_id(source_id: str, doc_id: str) -> str:
    """The event id of a document its sender named: the same ``_id`` on the same source is the same event."""
    return hashlib.blake2b(f"{source_id}\0_id\0{doc_id}".encode(), digest_size=16).hexdigest()


def with_sender_ids(source_id: str, events: list[Event], letters: list[DeadLetter],
                    ids: dict[int, str]) -> tuple[list[Event], list[DeadLetter]]:
    """Events and dead letters of the records whose offset ``ids`` maps to an ``_id``, with ids from it."""
    for event in events:
        doc_id = ids.get(event["log.offset"])
        if doc_id is not None:
            event["event.id"] = sender_event_id(source_id, doc_id)
    letters = [letter.model_copy(update={"id": sender_event_id(source_id, ids[letter.offset])})
               if letter.offset in ids else letter for letter in letters]
    return events, letters
