from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from canhgac.incidents.service import IncidentChange


class Notifier(ABC):
    """Receives incident changes after they are stored; must never block or break ingestion."""

    @abstractmethod
    def notify(self, changes: Sequence[IncidentChange]) -> None: ...

    def describe(self) -> str:
        return type(self).__name__

    def close(self) -> None:
        """Deliver what is queued, then stop."""


class NullNotifier(Notifier):
    def __init__(self, reason: str = "notifications disabled") -> None:
        self.reason = reason

    def notify(self, changes: Sequence[IncidentChange]) -> None:
        return None

    def describe(self) -> str:
        return self.reason


class RecordingNotifier(Notifier):
    """The fake for tests: keeps every change it is given."""

    def __init__(self) -> None:
        self.changes: list[IncidentChange] = []

    def notify(self, changes: Sequence[IncidentChange]) -> None:
        self.changes.extend(changes)
