"""What the escalation has already done for an incident, kept in the store's small-state KV.

The state is the planner's memory: everything it sends is recorded here first, so a second run at the same
time sends nothing again, and a restart carries on where the last run stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from canhgac.core.model import parse_utc, to_utc_iso

INCIDENT_PREFIX = "escalation:incident:"
DIGEST_PREFIX = "escalation:digest:"
#: Requests to escalate now live under their own keys: the planner never writes them, so a request made while
#: a run is in progress cannot be overwritten by that run's state.
REQUEST_PREFIX = "escalation:request:"


def incident_key(incident_id: str) -> str:
    return f"{INCIDENT_PREFIX}{incident_id}"


def request_key(incident_id: str) -> str:
    return f"{REQUEST_PREFIX}{incident_id}"


def digest_key(policy: str) -> str:
    return f"{DIGEST_PREFIX}{policy}"


def _time(value: Any) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) else None


def _text(value: datetime | None) -> str | None:
    return None if value is None else to_utc_iso(value)


@dataclass
class IncidentEscalation:
    chain: str | None = None  # the policy and when the incident last became new (``planner.chain_id``)
    paged_at: datetime | None = None  # when the on-call person was first told; the steps count from here
    paged: str | None = None  # the Slack id paged
    steps_sent: list[int] = field(default_factory=list)
    stopped_at: datetime | None = None  # acknowledged: the chain ended here
    reminders: list[str] = field(default_factory=list)  # "<clock kind>:<hours>" or "<clock kind>:overdue"
    request_done: datetime | None = None  # the latest request to escalate now that was acted on

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> IncidentEscalation:
        if not doc:
            return cls()
        return cls(chain=doc.get("chain"), paged_at=_time(doc.get("paged_at")), paged=doc.get("paged"),
                   steps_sent=[int(s) for s in doc.get("steps_sent", [])], stopped_at=_time(doc.get("stopped_at")),
                   reminders=[str(r) for r in doc.get("reminders", [])],
                   request_done=_time(doc.get("request_done")))

    def to_doc(self) -> dict[str, Any]:
        return {"chain": self.chain, "paged_at": _text(self.paged_at), "paged": self.paged,
                "steps_sent": self.steps_sent, "stopped_at": _text(self.stopped_at), "reminders": self.reminders,
                "request_done": _text(self.request_done)}


@dataclass(frozen=True)
class EscalationRequest:
    """Someone asked, from Slack or the page, to escalate an incident now."""

    at: datetime
    actor: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> EscalationRequest | None:
        at = _time((doc or {}).get("at"))
        return None if at is None or doc is None else cls(at, str(doc.get("actor", "")))

    def to_doc(self) -> dict[str, Any]:
        return {"at": to_utc_iso(self.at), "actor": self.actor}

    def pending(self, state: IncidentEscalation) -> bool:
        return state.request_done is None or state.request_done < self.at


@dataclass
class DigestState:
    last_day: date | None = None  # the local day of the last digest sent

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> DigestState:
        day = (doc or {}).get("last_day")
        return cls(date.fromisoformat(day) if isinstance(day, str) else None)

    def to_doc(self) -> dict[str, Any]:
        return {"last_day": None if self.last_day is None else self.last_day.isoformat()}
