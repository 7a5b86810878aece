"""A verdict on one entity's window, as an ``Alert`` that explains itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from canhgac.core.config_detection import BehaviourSettings
from canhgac.core.model import Alert, Severity, stable_id
from canhgac.detectors.behaviour.baseline import Baseline
from canhgac.detectors.behaviour.features import EntityKey
from canhgac.detectors.behaviour.rules import PREFIX, RULES, TAGS
from canhgac.detectors.behaviour.scoring import Verdict
from canhgac.detectors.behaviour.texts import explain

DETECTOR = "behaviour"
SERIES_POINTS = 48


def alert_id(key: EntityKey, rule_id: str, start: datetime, size: str) -> str:
    return stable_id(DETECTOR, rule_id, key.text, start.isoformat(), size)


def _entity(key: EntityKey, baseline: Baseline) -> dict[str, Any]:
    profile = baseline.profile
    if key.kind == "official":
        return {"kind": "official", "id": key.id, "name": profile.get("user.full_name"),
                "unit": profile.get("egov.unit.id"), "role": profile.get("user.roles"),
                "system": profile.get("url.domain")}
    system, _, account = key.id.partition("/")
    return {"kind": "client", "id": key.id, "name": account, "unit": profile.get("egov.caller.unit"),
            "role": None, "system": system}


def _series(baseline: Baseline, feature: str, size: str, start: datetime, value: float) -> dict[str, Any]:
    """The feature over the entity's recent active hours (or kept days), with the baseline as it stood."""
    if size == "hour":
        rolling = baseline.hours.get(feature)
        mean, std = (rolling.mean, rolling.std) if rolling else (0.0, 0.0)
        points = [[at, float(counts.get(feature, 0.0)), round(mean, 2), round(std, 2)]
                  for at, counts in baseline.recent if at < start.isoformat()][-(SERIES_POINTS - 1):]
        points.append([start.isoformat(), value, round(mean, 2), round(std, 2)])
        return {"feature": feature, "step": "hour", "points": points}
    middle, spread = baseline.daily_median(feature)
    values = baseline.days.get(feature, [])
    points = [[day, v, round(middle, 2), round(spread, 2)] for day, v in zip(baseline.day_dates, values, strict=False)]
    points.append([baseline.today or "", value, round(middle, 2), round(spread, 2)])
    return {"feature": feature, "step": "day", "points": points[-SERIES_POINTS:]}


def build_alert(key: EntityKey, baseline: Baseline, verdict: Verdict, size: str, start: datetime, end: datetime,
                evidence: list[str], counts: dict[str, float], settings: BehaviourSettings) -> Alert:
    rule = RULES[PREFIX + verdict.rule]
    main = verdict.findings[0]
    days = max(1, round((end - start) / timedelta(days=1)))
    severe = (main.ratio >= 10 or bool(verdict.new_networks) or verdict.rule in ("enumeration", "drift")
              or (main.feature == "exports" and main.value >= 5 * settings.min_volume("exports")))
    entities = {"user.name": key.id if key.kind == "official" else key.id.partition("/")[2]}
    if key.kind == "client":
        entities["egov.caller.system"] = key.id.partition("/")[0]
    details: dict[str, Any] = {
        "entity": _entity(key, baseline),
        "window": {"start": start.isoformat(), "end": end.isoformat(), "size": size},
        "detected_at": (end + timedelta(minutes=settings.grace_minutes)).isoformat(),
        "findings": [f.as_dict() for f in verdict.findings],
        "multivariate_score": None if verdict.multivariate_score is None else round(verdict.multivariate_score, 4),
        "new_networks": list(verdict.new_networks), "new_devices": verdict.new_devices,
        "explanation_vi": explain(key, baseline.profile, verdict, size, start, days, "vi"),
        "explanation_en": explain(key, baseline.profile, verdict, size, start, days, "en"),
        "series": _series(baseline, main.feature if main.feature != "off_hours" else
                          ("actions" if key.kind == "official" else "calls"), size, start, main.value
                          if main.feature != "off_hours" else counts.get("actions", counts.get("calls", 0.0))),
        "counts": {name: round(value, 3) for name, value in sorted(counts.items())},
        "incident_categories": ["personal_data_leak"] if settings.personal_data and (
            key.kind == "official" or verdict.rule in ("volume", "drift")) else [],
        "feedback": None,
    }
    return Alert(id=alert_id(key, rule.id, start, size), detector=DETECTOR, rule_id=rule.id, rule_title=rule.title,
                 rule_title_vi=rule.title_vi, grouping="user",
                 severity=Severity.high if severe else Severity.medium,
                 tags=list(TAGS), agency=key.agency, system=_entity(key, baseline)["system"], entities=entities,
                 first_seen=start, last_seen=end, count=max(1, int(main.value)), event_ids=evidence,
                 details=details)
