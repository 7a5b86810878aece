"""Collective work: when several officials of one role are far above their own normal in the same feature on
the same local day (a month-end report, a campaign of document renewals), that is the calendar, not one
account's leak. Kept per day in the store so a restart (or a replay) sees what the day held so far. Drifts are counted
the same way: a month-end peak lifts a whole role's days at once."""

from __future__ import annotations

from dataclasses import replace

from canhgac.detectors.behaviour.baseline import Baseline
from canhgac.detectors.behaviour.scoring import Verdict
from canhgac.storage.base import Store


def role_of(baseline: Baseline) -> str | None:
    """The crowd an entity belongs to: officials by role, across agencies; API clients belong to none."""
    if baseline.key.kind != "official":
        return None
    return baseline.profile.get("user.roles", "")


class Crowd:
    def __init__(self, store: Store, namespace: str, *, persist: bool, size: int) -> None:
        self.store, self.persist, self.size = store, persist, size
        self.key = f"behaviour:{namespace}:crowd"
        self.day: str | None = None
        self.members: dict[str, list[str]] = {}
        self.changed = False

    def _load(self, day: str) -> None:
        if self.day == day:
            return
        doc = (self.store.get_state(self.key) or {}) if self.persist and self.day is None else {}
        self.day = day
        self.members = {k: list(v) for k, v in doc.get("members", {}).items()} if doc.get("day") == day else {}
        self.changed = True

    def note(self, day: str, step: str, standouts: list[tuple[Baseline, set[str]]]) -> None:
        """Record who stood out in which feature (``step``: hour, day or drift), before any is filtered."""
        self._load(day)
        for baseline, features in standouts:
            role = role_of(baseline)
            if role is None:
                continue
            for feature in sorted(features):
                members = self.members.setdefault(f"{step}|{role}|{feature}", [])
                if baseline.key.text not in members:
                    members.append(baseline.key.text)
                    self.changed = True

    def without_collective(self, step: str, baseline: Baseline, verdicts: list[Verdict]) -> list[Verdict]:
        """The verdicts less their volume (or, for ``drift``, drift) findings shared with a crowd."""
        role = role_of(baseline)
        if role is None:
            return verdicts
        kept = []
        rule = "drift" if step == "drift" else "volume"
        for verdict in verdicts:
            if verdict.rule == rule:
                findings = tuple(f for f in verdict.findings
                                 if len(self.members.get(f"{step}|{role}|{f.feature}", [])) < self.size)
                if not findings:
                    continue
                verdict = replace(verdict, findings=findings)
            kept.append(verdict)
        return kept

    def save(self) -> None:
        if self.persist and self.changed and self.day is not None:
            self.store.put_state(self.key, {"day": self.day, "members": self.members})
        self.changed = False
