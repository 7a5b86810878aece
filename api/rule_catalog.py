"""The rules as the API shows them: every loaded Sigma rule and correlation, the built-in anomaly model and the
behaviour rules, with the metadata of the rule file (Vietnamese title, false positives, response guide) and ATT&CK
names."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml
from canhgac.core.attack import attack_refs, from_tags
from canhgac.core.config import Settings
from canhgac.core.model import Severity
from fastapi import Request
from pydantic import BaseModel, Field

_lock = threading.Lock()


class TechniqueRef(BaseModel):
    id: str = Field(description="ATT&CK technique id, e.g. T1110.001")
    name: str | None = Field(description="Its name in the shipped ATT&CK version (null when unknown there)")
    url: str


class TacticRef(BaseModel):
    id: str = Field(description="ATT&CK tactic shortname, e.g. credential-access")
    name: str | None
    url: str | None


class AttackRefs(BaseModel):
    version: str = Field(description="The ATT&CK release the names come from")
    techniques: list[TechniqueRef]
    tactics: list[TacticRef]


class RuleOut(BaseModel):
    id: str
    name: str | None = Field(description="The rule's Sigma name, when it has one")
    title: str
    title_vi: str | None
    severity: Severity
    tags: list[str]
    description: str
    description_vi: str | None = Field(None, description="The description in Vietnamese")
    falsepositives: list[str]
    falsepositives_vi: list[str] = Field(default_factory=list, description="The same notes in Vietnamese")
    response: str | None = Field(description="What the analyst should check and do (English)")
    response_vi: str | None = Field(description="The response guide in Vietnamese")
    status: str | None
    logsource: str
    detector: str = Field(description="sigma (rules and correlations), anomaly (the traffic model) or "
                                      "behaviour (per-account data-access baselines)")
    kind: str = Field(description="rule, correlation or model")
    attack: AttackRefs


ANOMALY_TAGS = ["attack.impact", "attack.reconnaissance", "attack.t1498", "attack.t1595"]


def _anomaly_rule() -> dict[str, Any]:
    from canhgac.detectors.anomaly import RULE_ID, RULE_TITLE

    return {
        "id": RULE_ID, "name": "traffic_anomaly", "title": "Unusual web traffic", "title_vi": RULE_TITLE,
        "severity": Severity.medium, "tags": ANOMALY_TAGS,
        "description": "A window of one agency's web traffic whose request count, error rate or number of distinct "
                       "source addresses stands far from that agency's own history (an isolation forest over "
                       "windowed features, confirmed by a robust z-score). High when the deviation is twice "
                       "the threshold.",
        "description_vi": "Một khung thời gian lưu lượng web của một cơ quan, đơn vị có số yêu cầu, tỷ lệ lỗi hoặc số "
                          "địa chỉ nguồn khác hẳn lịch sử của chính cơ quan, đơn vị đó (rừng cô lập trên các chỉ số "
                          "theo khung thời gian, được xác nhận bằng điểm z bền vững). Mức cao khi độ lệch gấp đôi "
                          "ngưỡng.",
        "falsepositives_vi": ["Một đợt cao điểm hoặc hạn chót có kế hoạch khiến nhiều người dân truy cập cùng lúc "
                              "(thuế, tuyển sinh)",
                              "Một công việc giám sát hoặc trình thu thập mới mà lịch sử chưa từng thấy"],
        "falsepositives": ["A planned campaign or deadline that brings many citizens at once (tax, enrolment)",
                           "A new monitoring job or crawler that the history has not seen yet"],
        "response": "Compare the observed numbers with the baseline in the alert, look at the top sources and paths "
                    "of the window in event search, and rate-limit or block what is not legitimate.",
        "response_vi": "So sánh số liệu quan sát với mức nền trong cảnh báo, xem các địa chỉ nguồn và đường dẫn "
                       "nhiều nhất của khung thời gian trong tìm kiếm sự kiện, giới hạn tốc độ hoặc chặn nguồn "
                       "không hợp lệ.",
        "status": "stable", "logsource": "webserver (any)", "detector": "anomaly", "kind": "model",
    }


def _behaviour_rules() -> list[dict[str, Any]]:
    from canhgac.detectors.behaviour.rules import RULES

    return [{"id": r.id, "name": r.name, "title": r.title, "title_vi": r.title_vi, "severity": r.severity,
             "tags": list(r.tags), "description": r.description, "description_vi": r.description_vi,
             "falsepositives": list(r.falsepositives), "falsepositives_vi": list(r.falsepositives_vi),
             "response": r.response, "response_vi": r.response_vi, "status": "experimental",
             "logsource": "onestop.audit, eoffice.audit, gateway.access", "detector": "behaviour", "kind": "model"}
            for r in RULES.values()]


def _responses(path: Path, cache: dict[Path, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Rule id → its YAML document, per file (the response guide is a custom attribute the loader keeps not)."""
    if path not in cache:
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError):
            documents = []
        cache[path] = {str(d.get("id")): d for d in documents if isinstance(d, dict)}
    return cache[path]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> list[str]:
    return [text for item in value if (text := _text(item))] if isinstance(value, list) else []


def load_catalog(settings: Settings) -> dict[str, RuleOut]:
    from canhgac.detectors.sigma import builtin_rules_dir, load_rules

    paths = [builtin_rules_dir()] if settings.detection.builtin_rules else []
    paths += [settings.resolve_path(p) for p in settings.detection.rule_dirs]
    loaded = load_rules(paths)
    files: dict[Path, dict[str, dict[str, Any]]] = {}
    rows = [_anomaly_rule(), *_behaviour_rules()]
    for rule in loaded.rules:
        rows.append({"id": rule.id, "name": rule.name, "title": rule.title, "title_vi": rule.title_vi,
                     "severity": rule.severity, "tags": list(rule.tags), "description": rule.description,
                     "falsepositives": list(rule.falsepositives), "status": rule.status,
                     "logsource": str(rule.logsource), "detector": "sigma", "kind": "rule", "path": rule.path})
    for correlation in loaded.correlations:
        rows.append({"id": correlation.id, "name": correlation.meta.name, "title": correlation.title,
                     "title_vi": correlation.meta.title_vi, "severity": correlation.meta.severity,
                     "tags": list(correlation.meta.tags), "description": correlation.description,
                     "falsepositives": list(correlation.falsepositives), "status": None,
                     "logsource": f"correlation ({correlation.kind}, {correlation.timespan})", "detector": "sigma",
                     "kind": "correlation", "path": correlation.path})
    catalog: dict[str, RuleOut] = {}
    for row in rows:
        path = row.pop("path", None)
        if path is not None:
            document = _responses(path, files).get(row["id"], {})
            row |= {"response": _text(document.get("response")), "response_vi": _text(document.get("response_vi")),
                    "description_vi": _text(document.get("description_vi")),
                    "falsepositives_vi": _texts(document.get("falsepositives_vi"))}
            row["status"] = row["status"] or _text(document.get("status"))
        techniques, tactics = from_tags(row["tags"])
        catalog[row["id"]] = RuleOut.model_validate({**row, "attack": attack_refs(techniques, tactics)})
    return dict(sorted(catalog.items()))


def rule_catalog(request: Request) -> dict[str, RuleOut]:
    """The catalogue of this application, loaded once (the same rule folders the pipeline reads)."""
    with _lock:
        cached = getattr(request.app.state, "rule_catalog", None)
        if cached is None:
            cached = request.app.state.rule_catalog = load_catalog(request.app.state.settings)
    return cached
