"""Which alerts belong together: the principal entity (or the configured fingerprint), and suppressions.

An alert is *placed* under a key: ``entity|agency|field|value`` when it has a principal entity (the source
address, or the user for account-centred rules), ``system|agency|rule|system`` when it has none, and the
configured fingerprint when its rule stands alone. Every key names the agency, so no incident ever holds
two agencies' alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from canhgac.core.config_incidents import Grouping
from canhgac.core.directory import Directory
from canhgac.core.model import Alert, RuleHit, Suppression

_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
_TACTIC = re.compile(r"^[a-z]+(_[a-z]+)*$")


def fingerprint(alert: Alert, parts: Sequence[str]) -> str:
    """``rule``, ``agency`` and ``system`` name the alert's own fields; anything else is an entity field."""
    values = []
    for part in parts:
        if part == "rule":
            values.append(alert.rule_id)
        elif part == "agency":
            values.append(alert.agency)
        elif part == "system":
            values.append(alert.system or "")
        else:
            values.append(alert.entities.get(part, ""))
    return "|".join(values)


#: Where each grouping mode looks for the principal entity, in order.
PRINCIPAL_FIELDS = {"source": ("source.ip", "user.name"), "user": ("user.name", "source.ip")}


@dataclass(frozen=True)
class Placement:
    """Where one alert goes, and why (the why is what the audit trail records)."""

    key: str
    mode: str  # source, user, system or alone
    principal: tuple[str, str] | None = None  # (field, value)
    absorbed_by: str | None = None  # the correlation alert that counted this alert in the same batch

    def reason(self) -> str:
        if self.absorbed_by is not None:
            return f"counted by correlation alert {self.absorbed_by}"
        if self.principal is not None:
            return f"same {self.principal[0]} {self.principal[1]}"
        return "same rule and system" if self.mode == "system" else "same fingerprint"


def principal_key(agency: str, field: str, value: str) -> str:
    return f"entity|{agency}|{field}|{value}"


def principal_of(key: str) -> tuple[str, str] | None:
    """The (field, value) a principal key names, else ``None``."""
    parts = key.split("|", 3)
    return (parts[2], parts[3]) if len(parts) == 4 and parts[0] == "entity" else None


def place(alert: Alert, grouping: Grouping) -> Placement:
    if not grouping.by_principal:
        return Placement(fingerprint(alert, grouping.fingerprint), "alone")
    mode = grouping.mode_for(alert.rule_id, alert.rule_name, alert.grouping)
    if mode == "alone":
        return Placement(fingerprint(alert, grouping.fingerprint), mode)
    for field in PRINCIPAL_FIELDS.get(mode, ()):
        value = alert.entities.get(field)
        if value:
            return Placement(principal_key(alert.agency, field, value), mode, (field, value))
    return Placement(f"system|{alert.agency}|{alert.rule_id}|{alert.system or ''}", "system")


def placements(alerts: Sequence[Alert], grouping: Grouping) -> list[Placement]:
    """Each alert's place; a correlation alert takes along the alerts of its rules that it counted.

    A correlation names its rules in ``details["rules"]`` and its evidence in ``event_ids``; an alert of one of
    those rules whose events it counted joins the correlation's incident (a brute force is one incident, not a
    brute force plus its failures), unless its rule stands alone. Chains (a correlation of correlations) follow
    to the outermost one.
    """
    placed = [place(alert, grouping) for alert in alerts]
    if not grouping.by_principal:
        return placed
    by_event: dict[tuple[str, str, str], list[int]] = {}
    for index, alert in enumerate(alerts):
        for event_id in alert.event_ids:
            by_event.setdefault((alert.agency, alert.rule_id, event_id), []).append(index)
    counted_by: dict[int, int] = {}
    for index, alert in enumerate(alerts):
        rules = alert.details.get("rules")
        if not isinstance(rules, list):
            continue
        for rule_id in {str(r) for r in rules}:
            for event_id in alert.event_ids:
                for other in by_event.get((alert.agency, rule_id, event_id), ()):
                    if other != index and placed[other].mode != "alone":
                        counted_by.setdefault(other, index)
    for index, counter in counted_by.items():
        seen = {index}
        while counter in counted_by and counted_by[counter] not in seen:
            seen.add(counter)
            counter = counted_by[counter]
        placed[index] = replace(placed[counter], absorbed_by=alerts[counter].id)
    return placed


def add_rule_hits(hits: Sequence[RuleHit], alerts: Iterable[Alert]) -> tuple[list[RuleHit], list[str]]:
    """The incident's rules with ``alerts`` counted in, and the ids of rules that were not there before."""
    found = {hit.rule_id: hit for hit in hits}
    order = [hit.rule_id for hit in hits]
    joined: list[str] = []
    for alert in alerts:
        hit = found.get(alert.rule_id)
        if hit is None:
            found[alert.rule_id] = RuleHit(rule_id=alert.rule_id, detector=alert.detector, title=alert.rule_title,
                                           title_vi=alert.rule_title_vi, severity=alert.severity, count=alert.count,
                                           alerts=1, first_seen=alert.first_seen, last_seen=alert.last_seen)
            order.append(alert.rule_id)
            joined.append(alert.rule_id)
            continue
        found[alert.rule_id] = hit.model_copy(update={
            "severity": max(hit.severity, alert.severity, key=lambda s: s.rank), "count": hit.count + alert.count,
            "alerts": hit.alerts + 1, "first_seen": min(hit.first_seen, alert.first_seen),
            "last_seen": max(hit.last_seen, alert.last_seen), "title_vi": hit.title_vi or alert.rule_title_vi})
    return [found[rule_id] for rule_id in order], joined


def merged_rule_hits(lists: Iterable[Sequence[RuleHit]]) -> list[RuleHit]:
    """The rules of several incidents folded into one (merge): counts added, first and last seen widened."""
    found: dict[str, RuleHit] = {}
    for hits in lists:
        for hit in hits:
            known = found.get(hit.rule_id)
            found[hit.rule_id] = hit if known is None else known.model_copy(update={
                "severity": max(known.severity, hit.severity, key=lambda s: s.rank),
                "count": known.count + hit.count, "alerts": known.alerts + hit.alerts,
                "first_seen": min(known.first_seen, hit.first_seen), "last_seen": max(known.last_seen, hit.last_seen)})
    return list(found.values())


def leading_rule(hits: Sequence[RuleHit]) -> RuleHit | None:
    """The rule an incident is named after: the most severe; of equals, the one that came first."""
    return max(hits, key=lambda hit: hit.severity.rank, default=None)


def suppressed_by(alert: Alert, suppressions: Sequence[Suppression], directory: Directory) -> Suppression | None:
    for suppression in suppressions:
        if suppression.rule_id is not None and suppression.rule_id != alert.rule_id:
            continue
        if suppression.agency is not None and (suppression.agency not in directory.agencies or
                                               alert.agency not in directory.subtree(suppression.agency)):
            continue
        if all(alert.entities.get(name) == value for name, value in suppression.entities.items()):
            return suppression
    return None


def attack_from_tags(tags: Sequence[str]) -> tuple[list[str], list[str]]:
    """Sigma ``attack.*`` tags → (tactics, techniques): ``attack.initial_access``, ``attack.t1190`` → T1190.

    Group and software tags (``attack.g0007``, ``attack.s0002``) are neither.
    """
    tactics: set[str] = set()
    techniques: set[str] = set()
    for tag in tags:
        name = tag.lower().removeprefix("attack.")
        if name == tag.lower():
            continue
        if _TECHNIQUE.match(name):
            techniques.add(name.upper())
        elif _TACTIC.match(name):
            tactics.add(name.replace("_", "-"))
    return sorted(tactics), sorted(techniques)
