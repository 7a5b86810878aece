"""A brute-force reference for the differential tests: evaluates pySigma's parsed condition tree directly.

Nothing here is shared with the engine's evaluation path (no compiled matchers, no prefilter, no
incremental windows): wildcards go through pySigma's own ``SigmaString.to_regex``, every test is
re-derived per event, and correlations re-scan every window after every event. Only the data tables
(field names, log source routes, keyword field exclusions) are shared, as they define what a rule means
for Canh Gác events rather than how it is evaluated.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from canhgac.detectors.sigma.correlation import CorrelationRule
from canhgac.detectors.sigma.fieldmap import FIELD_MAP, KEYWORD_EXCLUDED, route_for
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
)

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
Event = dict[str, Any]


class ReferenceRule:
    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.rule = SigmaRule.from_dict(data)
        self.id = str(self.rule.id)
        self.name = self.rule.name
        source = data["logsource"]
        route = route_for(source.get("category"), source.get("product"), source.get("service"))
        assert route is not None
        self.route = route.events
        self.trees = [condition.parse() for condition in self.rule.detection.parsed_condition]

    def matches(self, event: Event) -> bool:
        return self.route.accepts(event) and any(_eval(tree, event) for tree in self.trees)


def _eval(node: Any, event: Event) -> bool:
    if isinstance(node, ConditionAND):
        return all(_eval(arg, event) for arg in node.args)
    if isinstance(node, ConditionOR):
        return any(_eval(arg, event) for arg in node.args)
    if isinstance(node, ConditionNOT):
        return not _eval(node.args[0], event)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _value(node.value, event.get(FIELD_MAP.get(node.field, node.field)))
    if isinstance(node, ConditionValueExpression):
        texts = [value for name, value in event.items() if name not in KEYWORD_EXCLUDED and isinstance(value, str)]
        texts += [item for name, value in event.items() if name not in KEYWORD_EXCLUDED and isinstance(value, list)
                  for item in value if isinstance(item, str)]
        return any(_contains(node.value, text) for text in texts)
    raise TypeError(node)


def _contains(value: Any, text: str) -> bool:
    if isinstance(value, SigmaExpansion):
        return any(_contains(item, text) for item in value.values)
    if isinstance(value, SigmaRegularExpression):
        return _regex(value).search(text) is not None
    pattern = str(value.to_regex().regexp) if isinstance(value, SigmaString) else re.escape(str(value))
    flags = 0 if isinstance(value, SigmaCasedString) else re.IGNORECASE
    return re.search(pattern, text, flags | re.DOTALL) is not None


def _regex(value: SigmaRegularExpression) -> re.Pattern[str]:
    flags = 0
    for flag in value.flags:
        flags |= {SigmaRegularExpressionFlag.IGNORECASE: re.I, SigmaRegularExpressionFlag.MULTILINE: re.M,
                  SigmaRegularExpressionFlag.DOTALL: re.S}[flag]
    return re.compile(str(value.regexp), flags)


def _value(value: Any, found: Any) -> bool:
    if isinstance(value, SigmaExpansion):
        return any(_value(item, found) for item in value.values)
    if isinstance(value, SigmaNull):
        return found is None
    if isinstance(value, SigmaExists):
        return (found is not None) == value.exists
    if found is None:
        return False
    if isinstance(found, list):
        return any(item is not None and _value(value, item) for item in found)
    if isinstance(value, SigmaTimestampPart):
        moment = datetime.fromisoformat(str(found).replace("Z", "+00:00")).astimezone(ZONE)
        part = value.timestamp_part.name.lower()
        actual = moment.isocalendar().week if part == "week" else getattr(moment, part)
        return actual == value.number
    if isinstance(value, SigmaCompareExpression):
        number = _number(found)
        if number is None:
            return False
        return {"LT": number < value.number.number, "LTE": number <= value.number.number,
                "GT": number > value.number.number, "GTE": number >= value.number.number,
                "NEQ": number != value.number.number}[value.op.name]
    if isinstance(value, SigmaBool):
        return str(found).lower() == str(value.boolean).lower()
    if isinstance(value, SigmaNumber):
        return _number(found) == value.number
    if isinstance(value, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(str(found)) in value.network
        except ValueError:
            return False
    if isinstance(value, SigmaRegularExpression):
        return _regex(value).search(str(found)) is not None
    if isinstance(value, SigmaString):
        flags = 0 if isinstance(value, SigmaCasedString) else re.IGNORECASE
        return re.fullmatch(str(value.to_regex().regexp), str(found), flags | re.DOTALL) is not None
    raise TypeError(value)


def _number(found: Any) -> float | None:
    if isinstance(found, bool):
        return None
    try:
        return float(found)
    except (TypeError, ValueError):
        return None


# correlations ------------------------------------------------------------------------------------------
def _millis(event: Event) -> int:
    return int(datetime.fromisoformat(event["@timestamp"].replace("Z", "+00:00")).timestamp() * 1000)


def correlation_fires(target: CorrelationRule, correlations: dict[str, CorrelationRule],
                      rules: dict[str, ReferenceRule], events: list[Event]) -> list[Event]:
    """The synthetic events (one per firing) of ``target`` over ``events``, re-scanning all windows each time."""
    arrivals: list[tuple[Event, int]] = []  # (event, index of the referenced rule)
    inputs: dict[str, list[Event]] = {}
    for rule_id in target.rule_ids:
        if rule_id in correlations:
            inputs[rule_id] = correlation_fires(correlations[rule_id], correlations, rules, events)
        else:
            inputs[rule_id] = [event for event in events if rules[rule_id].matches(event)]
    order = {id(event): position for position, event in enumerate(events)}
    for index, rule_id in enumerate(target.rule_ids):
        arrivals += [(event, index) for event in inputs[rule_id]]
    arrivals.sort(key=lambda item: (order[id(item[0])], 0) if id(item[0]) in order else (item[0]["_position"], 1))
    fired: list[Event] = []
    pending: dict[tuple[str, ...], list[tuple[int, str, int, Any]]] = {}
    seen: set[str] = set()  # a re-read line is the same event: counted once
    for event, index in arrivals:
        if event["event.id"] in seen:
            continue
        seen.add(event["event.id"])
        rule_id = target.rule_ids[index]
        key = [str(event.get("organization.id"))]
        for name in target.group_by:
            value = event.get(target.field_for(name, rule_id))
            if value is None:
                break
            key.append(",".join(map(str, value)) if isinstance(value, list) else str(value))
        else:
            value_field = target.field_for(target.value_field, rule_id) if target.value_field else None
            value = event.get(value_field) if value_field else None
            value = ",".join(map(str, value)) if isinstance(value, list) else value
            entries = pending.setdefault(tuple(key), [])
            entries.append((_millis(event), str(event["event.id"]), index, value))
            entries.sort(key=lambda entry: (entry[0], entry[1]))
            window = _satisfied(target, entries, _millis(event))
            if window is not None:
                for entry in window:
                    entries.remove(entry)
                group = dict(zip(target.group_by, key[1:], strict=True))
                last = max(entry[0] for entry in window)
                fired.append({"@timestamp": datetime.fromtimestamp(last / 1000).astimezone(ZONE).isoformat(),
                              "event.id": f"{target.id}:{len(fired)}", "organization.id": key[0],
                              "_position": order.get(id(event), 0), **group})
    return fired


def _satisfied(target: CorrelationRule, entries: list[tuple[int, str, int, Any]],
               moment: int) -> list[tuple[int, str, int, Any]] | None:
    span = target.span_seconds * 1000
    for start in entries:
        if not start[0] <= moment <= start[0] + span:
            continue
        window = [entry for entry in entries if start[0] <= entry[0] <= start[0] + span]
        if _condition(target, window):
            return window
    return None


def _condition(target: CorrelationRule, window: list[tuple[int, str, int, Any]]) -> bool:
    if target.kind == "temporal_ordered":
        wanted = 0
        for entry in window:
            if entry[2] == wanted:
                wanted += 1
        return wanted >= len(target.rule_ids)
    if target.kind == "event_count":
        value: float = len(window)
    elif target.kind == "value_count":
        value = len({entry[3] for entry in window if entry[3] is not None})
    elif target.kind == "temporal":
        value = len({entry[2] for entry in window})
    else:
        numbers = [float(entry[3]) for entry in window if _number(entry[3]) is not None]
        if not numbers:
            return False
        value = sum(numbers) if target.kind == "value_sum" else sum(numbers) / len(numbers)
    return {"gt": value > target.threshold, "gte": value >= target.threshold, "eq": value == target.threshold,
            "lt": value < target.threshold, "lte": value <= target.threshold}[target.op]
