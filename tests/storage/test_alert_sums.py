"""``sum_alerts_by`` on both stores: Σ count per combination of values, missing values as None, tags unnested,
and the same answer as reading every alert (the base class's way)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from canhgac.core.model import Severity
from canhgac.storage.base import AlertQuery, Store

from tests.storage.test_contract import T0, make_alert


def _alerts() -> list:
    return [
        make_alert(1).model_copy(update={"count": 5, "system": "cong-dvc",
                                         "tags": ["attack.t1190", "attack.initial_access"]}),
        make_alert(2, agency="quynhon").model_copy(update={"count": 2, "tags": ["attack.t1110"]}),
        make_alert(3, severity=Severity.critical, rule_id="ssh-brute").model_copy(update={
            "count": 7, "rule_title": "Dò mật khẩu SSH", "entities": {}, "tags": []}),
        make_alert(4, minutes=60 * 24 * 3).model_copy(update={"count": 11}),  # outside the queried day
    ]


@pytest.fixture
def filled(store: Store) -> Store:
    store.put_alerts(_alerts())
    store.refresh()
    return store


DAY = AlertQuery(start=T0 - timedelta(hours=1), end=T0 + timedelta(days=1))


def test_sums_by_one_field(filled: Store) -> None:
    assert filled.sum_alerts_by(DAY, ["severity"]) == {("high",): 7, ("critical",): 7}
    assert filled.sum_alerts_by(DAY, ["rule_title"]) == {("SQL injection",): 7, ("Dò mật khẩu SSH",): 7}
    assert filled.sum_alerts_by(DAY, ["entities.source.ip"]) == {("203.0.113.5",): 7, (None,): 7}
    assert filled.sum_alerts_by(AlertQuery(), ["severity"]) == {("high",): 18, ("critical",): 7}


def test_sums_by_a_pair_with_missing_values(filled: Store) -> None:
    assert filled.sum_alerts_by(DAY, ["system", "agency"]) == {
        ("cong-dvc", "binhdinh"): 5, (None, "quynhon"): 2, (None, "binhdinh"): 7}


def test_each_tag_counts_and_untagged_alerts_are_none(filled: Store) -> None:
    assert filled.sum_alerts_by(DAY, ["tags"]) == {
        ("attack.t1190",): 5, ("attack.initial_access",): 5, ("attack.t1110",): 2, (None,): 7}


def test_scope_and_filters_apply(filled: Store) -> None:
    scoped = AlertQuery(agencies=frozenset({"quynhon"}))
    assert filled.sum_alerts_by(scoped, ["agency"]) == {("quynhon",): 2}
    assert filled.sum_alerts_by(AlertQuery(min_severity=Severity.critical), ["rule_id"]) == {("ssh-brute",): 7}


@pytest.mark.parametrize("fields", [["severity"], ["system", "agency"], ["tags"], ["rule_title", "entities.source.ip"]])
def test_same_answer_as_reading_the_alerts(filled: Store, fields: list[str]) -> None:
    assert filled.sum_alerts_by(AlertQuery(), fields) == Store.sum_alerts_by(filled, AlertQuery(), fields)


def test_unknown_field_is_refused(filled: Store) -> None:
    with pytest.raises(ValueError, match="details"):
        filled.sum_alerts_by(AlertQuery(), ["details"])


def test_composite_pages_are_followed_to_the_end(elasticsearch_store: Store) -> None:
    from canhgac.storage.elasticsearch.aggregations import alert_sums

    store: Any = elasticsearch_store
    store.put_alerts(_alerts())
    store.refresh()

    def search(aggs: dict[str, Any]) -> Any:
        return store.client.search(index=f"{store.prefix}-alerts", size=0, aggs=aggs)

    paged = alert_sums(search, ["tags"], page_size=2)
    assert paged == {("attack.t1190",): 16, ("attack.initial_access",): 5, ("attack.t1110",): 2, (None,): 7}
