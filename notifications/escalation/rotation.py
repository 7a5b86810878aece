"""Who is on call, and which policy an incident falls under."""

from __future__ import annotations

from datetime import datetime, timedelta

from canhgac.core.config import Settings
from canhgac.core.config_oncall import OnCallPolicy, Rotation, slack_id_for
from canhgac.core.directory import Directory
from canhgac.core.model import Incident
from canhgac.core.timeutil import VIETNAM


class People:
    """Rotation entries and SOC leads as Slack member ids: a mention is only ever built from one of these."""

    def __init__(self, settings: Settings) -> None:
        slack = settings.notifications.slack
        self._mapped = {user.name: user.slack_id for user in slack.users} if slack is not None else {}

    def slack_id(self, person: str) -> str:
        found = slack_id_for(person, self._mapped)
        if found is None:  # config check refuses such a file; a programmatic Settings might not
            raise ValueError(f"{person!r} is not a Slack member id nor a mapped user")
        return found


def shift_index(rotation: Rotation, now: datetime) -> int:
    """The number of the shift running at ``now`` (0 = people[0]'s first), handovers in Vietnam's time."""
    first = datetime.combine(rotation.starts, rotation.handover, tzinfo=VIETNAM)
    return (now.astimezone(VIETNAM) - first) // timedelta(hours=rotation.shift_hours)


def on_call(rotation: Rotation, now: datetime, *, ahead: int = 0) -> str:
    """The rotation entry on call at ``now``; ``ahead=1`` is who comes next."""
    people = rotation.people
    return people[(shift_index(rotation, now) + ahead) % len(people)]


def policy_for(incident: Incident, policies: list[OnCallPolicy], directory: Directory) -> OnCallPolicy | None:
    """The first policy (in the file's order) covering the incident's agency at its severity."""
    for policy in policies:
        if incident.severity.rank >= policy.min_severity.rank and covers(policy, incident.agency, directory):
            return policy
    return None


def covers(policy: OnCallPolicy, agency: str, directory: Directory) -> bool:
    return not policy.agencies or any(agency in directory.subtree(a) for a in policy.agencies)
