"""The serious-incident flag (sự cố nghiêm trọng): a system of security level 4 or 5 (Decree 85/2016)
hit in one of the ways Decision 05/2017/QĐ-TTg names; analysts can override it, with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.core.model import Incident, SeriousOverride


@dataclass(frozen=True)
class SeriousAssessment:
    serious: bool  # what counts: the override when there is one, else the computed value
    computed: bool
    security_level: int | None
    matching_categories: list[str]
    override: SeriousOverride | None


def assess(incident: Incident, directory: Directory, settings: Settings) -> SeriousAssessment:
    test = settings.incidents.serious
    system = directory.systems.get(incident.system) if incident.system else None
    level = system.security_level if system is not None else None
    matching = [c.value for c in incident.categories if c in test.categories]
    computed = level is not None and level >= test.min_security_level and bool(matching)
    override = incident.serious_override
    return SeriousAssessment(override.serious if override is not None else computed, computed, level, matching,
                             override)
