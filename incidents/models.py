"""What the incident service hands out and takes in, apart from the stored model (``canhgac.core.model``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from canhgac.core.errors import CanhGacError
from canhgac.core.model import Alert, Incident, IncidentState

CLOSED_STATES = frozenset({IncidentState.resolved, IncidentState.closed})
SYSTEM_ACTOR = "canhgac"


@dataclass
class IncidentChange:
    """What happened to one incident in one batch: the notifiers' input."""

    incident: Incident
    created: bool
    new_alerts: list[Alert] = field(default_factory=list)
    severity_raised: bool = False
    reopened: bool = False
    rules_joined: list[str] = field(default_factory=list)  # rule ids new to the incident in this batch


class InvalidChange(CanhGacError):
    """A requested change that the incident's rules do not allow; ``field`` names the input at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}")


def closed_at(incident: Incident) -> datetime | None:
    """When the incident last entered resolved or closed, if it is there now."""
    if incident.state not in CLOSED_STATES:
        return None
    for change in reversed(incident.history):
        if change.to_state in CLOSED_STATES and (change.from_state is None or change.from_state not in CLOSED_STATES):
            return change.at
    return incident.updated


def acknowledged_at(incident: Incident) -> datetime | None:
    """When the incident first left ``new``: the end of the time to acknowledge."""
    for change in incident.history:
        if change.from_state is IncidentState.new and change.to_state is not IncidentState.new:
            return change.at
    return None
