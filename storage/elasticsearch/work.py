"""Writes held by ``ElasticsearchStore.unit_of_work()`` and how they are sent (docs/decisions/0035).

A unit holds incident creates and conditional updates, audit entries and state. When it ends, the incident
writes go in one bulk; each loser of a race (409) is read again and listed as a conflict, and its audit
entries are dropped. The audit entries and state then go to the enclosing unit, or, at the outermost one, in
a second bulk. Two bulks rather than one so that no audit entry describes a change that was not stored.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from canhgac.core.model import Incident
from canhgac.storage.base import UnitOfWork
from canhgac.storage.elasticsearch.bulk import Action

_tokens = itertools.count(1)
_tokens_lock = threading.Lock()


def pending_version() -> str:
    """A provisional version, unique in the process, until the bulk tells the real one."""
    with _tokens_lock:
        return f"pending:{next(_tokens)}"


@dataclass
class HeldIncident:
    incident: Incident  # as the caller wrote it, with a provisional version
    action: Action


@dataclass
class EsUnit(UnitOfWork):
    incidents: dict[str, HeldIncident] = field(default_factory=dict)
    audits: list[tuple[str | None, Action]] = field(default_factory=list)  # (incident id or None, action)
    states: dict[str, Action] = field(default_factory=dict)  # state key → its write (the last one wins)

    def __post_init__(self) -> None:
        UnitOfWork.__init__(self)

    def hold_incident(self, incident: Incident, action: Action) -> Incident:
        held = incident.model_copy(update={"version": pending_version()})
        self.incidents[incident.id] = HeldIncident(held, action)
        return held

    def state_value(self, key: str) -> dict[str, Any] | None:
        action = self.states.get(key)
        return None if action is None else action.source["value"]

    def take_rest(self, child: EsUnit) -> None:
        """A finished inner unit's audit entries and state, to be sent with this unit's."""
        self.audits += child.audits
        self.states.update(child.states)


def incident_of_audit(doc: dict[str, Any]) -> str | None:
    return doc.get("object_id") if doc.get("object_type") == "incident" else None
