"""A Sigma rule compiled for evaluation: its metadata and its condition tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from canhgac.model import Event, Severity
from detectors.sigma.fieldmap import LogsourceRoute, describe_logsource
from detectors.sigma.nodes import Node

#: Sigma levels to Canh Gác severities; Sigma's ``informational`` has no lower severity to map to.
LEVEL_SEVERITY: dict[str, Severity] = {
    "informational": Severity.low,
    "low": Severity.low,
    "medium": Severity.medium,
    "high": Severity.high,
    "critical": Severity.critical,
}
#: The severity of a rule that states no level.
DEFAULT_SEVERITY = Severity.medium


@dataclass(frozen=True)
class Logsource:
    category: str | None = None
    product: str | None = None
    service: str | None = None

    def __str__(self) -> str:
        return describe_logsource(self.category, self.product, self.service)


@dataclass(eq=False)
class CompiledRule:
    """One loaded rule. ``matches`` checks the log source route first, then the detection condition."""

    id: str
    title: str
    severity: Severity
    tags: list[str]
    path: Path
    line: int | None
    logsource: Logsource
    route: LogsourceRoute
    condition: Node
    description: str = ""
    falsepositives: list[str] = field(default_factory=list)
    level: str | None = None
    status: str | None = None
    references: list[str] = field(default_factory=list)

    def matches(self, event: Event) -> bool:
        return self.route.events.accepts(event) and self.condition.matches(event)

    def matched_fields(self, event: Event) -> list[str]:
        """The event fields whose tests matched (for the alert's details); meaningful after ``matches``."""
        found: set[str] = set()
        self.condition.collect_fields(event, found)
        return sorted(found)

    def __repr__(self) -> str:
        return f"CompiledRule({self.id} {self.title!r} from {self.path})"
