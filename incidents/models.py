"""What the incident service hands out and takes in, apart from the stored model (``canhgac.core.model``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from canhgac.core.errors import CanhGacError
from canhgac.core.model import CLOSED_STATES, Alert, Incident, acknowledged_at, closed_at

SYSTEM_ACTOR = "canhgac"
__all__ = ["CLOSED_STATES", "SYSTEM_ACTOR", "acknowledged_at", "closed_at"]  # the clock facts live in core


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


