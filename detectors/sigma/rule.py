"""A Sigma rule compiled for evaluation: its metadata and its condition tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from canhgac.core.model import Event, Severity
from canhgac.detectors.sigma.fieldmap import LogsourceRoute, describe_logsource
from canhgac.detectors.sigma.nodes import AndNode, Node

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

    def within(self, other: Logsource) -> bool:
        """Whether every part ``other`` states is stated the same here (how filters pick their rules)."""
        return all(theirs is None or (mine or "").lower() == theirs.lower()
                   for mine, theirs in ((self.category, other.category), (self.product, other.product),
                                        (self.service, other.service)))


@dataclass(frozen=True)
class RuleMeta:
    """What an alert shows about the rule that raised it."""

    id: str
    title: str
    severity: Severity
    tags: tuple[str, ...] = ()
    title_vi: str | None = None
    name: str | None = None
    grouping: str | None = None  # custom attribute ``incident_grouping``


@dataclass(eq=False)
class CompiledRule:
    """One loaded rule. ``matches`` checks the log source route first, then the detection condition.

    ``silent`` rules feed correlations only: every correlation that uses them says ``generate: false``.
    """

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
    name: str | None = None
    title_vi: str | None = None
    grouping: str | None = None  # custom attribute ``incident_grouping``
    silent: bool = False
    filters: list[str] = field(default_factory=list)

    @property
    def meta(self) -> RuleMeta:
        return RuleMeta(self.id, self.title, self.severity, tuple(self.tags), self.title_vi, self.name, self.grouping)

    def matches(self, event: Event) -> bool:
        return self.route.events.accepts(event) and self.condition.matches(event)

    def matched_fields(self, event: Event) -> list[str]:
        """The event fields whose tests matched (for the alert's details); meaningful after ``matches``."""
        found: set[str] = set()
        self.condition.collect_fields(event, found)
        return sorted(found)

    def add_filter(self, filter_id: str, condition: Node) -> None:
        """AND a Sigma filter's condition (already written as "what to keep") into this rule's condition."""
        self.condition = AndNode((self.condition, condition))
        self.filters.append(filter_id)

    def __repr__(self) -> str:
        return f"CompiledRule({self.id} {self.title!r} from {self.path})"
