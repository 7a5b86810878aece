"""Data-leak analytics per official and API client: closed hours and days scored against each entity's own
normal and its peers', baselines kept in the store. Live detection (a scheduled job) and a replay over stored
events run the same code, so they raise the same alerts with the same ids.
See docs/decisions/0045-behaviour-baselines.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from canhgac.core.config_detection import BehaviourSettings
from canhgac.core.model import Alert, Event, utcnow
from canhgac.detectors.behaviour import feedback
from canhgac.detectors.behaviour.alerts import build_alert
from canhgac.detectors.behaviour.baseline import Baseline, closes_local_day, hour_start, local_day
from canhgac.detectors.behaviour.crowd import Crowd
from canhgac.detectors.behaviour.features import (
    CLIENT_FEATURES,
    DATASETS,
    OFFICIAL_FEATURES,
    EntityHour,
    EntityKey,
    hour_features,
)
from canhgac.detectors.behaviour.multivariate import day_outliers
from canhgac.detectors.behaviour.peers import PeerIndex
from canhgac.detectors.behaviour.scoring import (
    Verdict,
    advance_drift,
    score_day,
    score_hour,
    standing_out,
)
from canhgac.storage.base import EventCursor, EventQuery, Store

HOUR = timedelta(hours=1)
PAGE = 5000
LIVE = "live"


def features_of(kind: str) -> tuple[str, ...]:
    return OFFICIAL_FEATURES if kind == "official" else CLIENT_FEATURES


#: For a day's evidence: which hourly evidence list each daily feature draws on.
DAY_EVIDENCE = {"official": {f: f for f in ("views", "downloads", "prints", "exports", "records")},
                "client": {"records": "records", "calls": "all", "bytes": "records", "distinct_apis": "all"}}


@dataclass
class Baselines:
    """The baselines of one namespace, loaded per agency on first use and written back after each hour."""

    store: Store
    namespace: str
    persist: bool = True  # False: a replay keeps its baselines in memory only
    loaded: set[str] = field(default_factory=set)
    by_key: dict[EntityKey, Baseline] = field(default_factory=dict)
    dirty: set[EntityKey] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)  # entities followed per agency

    def prefix(self, agency: str = "") -> str:
        return f"behaviour:{self.namespace}:entity:{agency}"

    def load_agency(self, agency: str) -> None:
        if agency in self.loaded:
            return
        self.loaded.add(agency)
        if not self.persist:
            return
        for doc in self.store.list_state(self.prefix(agency) + "|", limit=10_000).values():
            baseline = Baseline.from_state(doc)
            self.by_key[baseline.key] = baseline

    def get(self, key: EntityKey) -> Baseline:
        self.load_agency(key.agency)
        baseline = self.by_key.get(key)
        if baseline is None:
            baseline = self.by_key[key] = Baseline(key)
        return baseline

    def admits(self, key: EntityKey, limit: int) -> bool:
        """Whether ``key`` has, or may get, a baseline: names written into logs by an attacker must not grow
        the state without bound, so an agency's new entities past ``limit`` are not followed."""
        self.load_agency(key.agency)
        if key in self.by_key:
            return True
        count = self.counts.get(key.agency)
        if count is None:
            count = self.counts[key.agency] = sum(1 for k in self.by_key if k.agency == key.agency)
        if count >= limit:
            return False
        self.counts[key.agency] = count + 1
        return True

    def of_agency(self, agency: str) -> list[Baseline]:
        self.load_agency(agency)
        return [b for k, b in self.by_key.items() if k.agency == agency]

    def save(self) -> None:
        if not self.persist:
            self.dirty.clear()
            return
        for key in sorted(self.dirty):
            self.store.put_state(f"{self.prefix()}{key.text}", self.by_key[key].to_state())
        self.dirty.clear()


class BehaviourDetector:
    def __init__(self, store: Store, settings: BehaviourSettings, *, clock: Callable[[], datetime] = utcnow,
                 namespace: str = LIVE, agencies: frozenset[str] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.namespace = namespace
        self.agencies = agencies
        self.baselines = Baselines(store, namespace)
        self.crowd = Crowd(store, namespace, persist=True, size=settings.crowd_size)
        self.live = True

    @property
    def cursor_key(self) -> str:
        return f"behaviour:{self.namespace}:cursor"

    # running ---------------------------------------------------------------------------------
    def run(self) -> list[Alert]:
        """Score every hour closed for the grace period and not scored before (live detection)."""
        now = self.clock()
        last = hour_start(now - timedelta(minutes=self.settings.grace_minutes)) - HOUR
        state = self.store.get_state(self.cursor_key) or {}
        if state.get("next_hour"):
            first = datetime.fromisoformat(state["next_hour"])
            self._learn_feedback(first)
        else:
            first = hour_start(now - timedelta(days=self.settings.backfill_days))
        return self.score_hours(first, last)

    def replay(self, start: datetime, end: datetime) -> list[Alert]:
        """Score the hours of [start, end) from empty baselines kept in memory (nothing of live detection's
        state is read or written): a backfill or a hunt, raising the alerts live detection raised."""
        self.live = False
        self.baselines = Baselines(self.store, self.namespace, persist=False)
        self.crowd = Crowd(self.store, self.namespace, persist=False, size=self.settings.crowd_size)
        return self.score_hours(hour_start(start), hour_start(end) - HOUR)

    def score_hours(self, first: datetime, last: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        moment = first
        while moment <= last:
            alerts += self._score_hour(moment)
            moment += HOUR
        return alerts

    def _score_hour(self, start: datetime) -> list[Alert]:
        hours = hour_features(self._events(start, start + HOUR), start)
        expected = feedback.expected_windows(self.store)
        alerts: list[Alert] = []
        with self.store.unit_of_work():
            peers = PeerIndex(self.baselines, self.settings)
            for agency in sorted({key.agency for key in hours}):
                self.baselines.load_agency(agency)
            # every entity of the hour is judged before any learns it, so peers and the crowd are the same
            # whatever the order; then each keeps what is not collective work
            judged = [(hours[key], *self._judge(hours[key], peers)) for key in sorted(hours)
                      if self.baselines.admits(key, self.settings.max_entities_per_agency)]
            self.crowd.note(local_day(start), "hour", [(baseline, standing_out(baseline, hour.counts, "hour",
                                                                               self.settings))
                                                        for hour, baseline, _ in judged])
            for hour, baseline, verdicts in judged:
                alerts += self._settle(hour, baseline, self.crowd.without_collective("hour", baseline, verdicts),
                                       expected)
            if closes_local_day(start):
                alerts += self._close_day(start, peers, expected)
            self.crowd.save()
            self.baselines.save()
            if self.live:
                self.store.put_state(self.cursor_key, {"next_hour": (start + HOUR).isoformat()})
        return alerts

    def _learn_feedback(self, next_hour: datetime) -> None:
        """Windows marked as expected work after live detection had passed them: learned now."""
        records = [r for r in feedback.pending(self.store, self.namespace)
                   if r.get("window", {}).get("end", "") <= next_hour.isoformat()]
        if not records:
            return
        with self.store.unit_of_work():
            for record in records:
                entity = record.get("entity") or {}
                key = EntityKey(record["agency"], entity.get("kind", "official"), str(entity.get("id", "")))
                baseline = self.baselines.get(key)
                counts = {k: float(v) for k, v in (record.get("counts") or {}).items()}
                if record["window"].get("size") == "hour":
                    baseline.learn_counts(counts, features_of(key.kind))
                else:
                    baseline.learn_day(local_day(datetime.fromisoformat(record["window"]["start"])), counts,
                                       features_of(key.kind))
                self.baselines.dirty.add(key)
                feedback.applied(self.store, record, self.namespace)
            self.baselines.save()

    def _events(self, start: datetime, end: datetime) -> Iterator[Event]:
        query = EventQuery(start=start, end=end, agencies=self.agencies, filters={"event.dataset": list(DATASETS)},
                           limit=PAGE, newest_first=False)
        while True:
            page = self.store.search_events(query)
            yield from page
            if len(page) < PAGE:
                return
            query = EventQuery(start=start, end=end, agencies=self.agencies, filters=query.filters, limit=PAGE,
                               newest_first=False, after=EventCursor.of(page[-1]))

    def _judge(self, hour: EntityHour, peers: PeerIndex) -> tuple[Baseline, list[Verdict]]:
        baseline = self.baselines.get(hour.key)
        if baseline.procedures:
            hour.counts["outside_procedure"] = float(sum(
                amount for name, amount in hour.procedures.items() if name not in baseline.procedures))
        if hour.profile.get("user.roles") and not baseline.profile.get("user.roles"):
            baseline.profile["user.roles"] = hour.profile["user.roles"]
        return baseline, score_hour(hour, baseline, peers.hourly(baseline), self.settings)

    def _settle(self, hour: EntityHour, baseline: Baseline, verdicts: list[Verdict],
                expected: set[str]) -> list[Alert]:
        features = features_of(hour.key.kind)
        alerts = [build_alert(hour.key, baseline, verdict, "hour", hour.start, hour.start + HOUR,
                              hour.evidence_for(_main(verdict)), hour.counts, self.settings) for verdict in verdicts]
        day = local_day(hour.start)
        if baseline.today not in (None, day):
            baseline.close_day(features, learn=True)  # a day that closed before this detector saw its end
        baseline.today = day
        learn = not alerts or self._expected(alerts, expected)
        if learn:
            baseline.learn_hour(hour, features)
            baseline.add_to_today(hour, features, DAY_EVIDENCE[hour.key.kind])
        baseline.add_recent(hour)
        self.baselines.dirty.add(hour.key)
        return alerts

    def _close_day(self, last_hour: datetime, peers: PeerIndex, expected: set[str]) -> list[Alert]:
        day = local_day(last_hour)
        today = [b for b in self.baselines.by_key.values()
                 if b.today == day and (self.agencies is None or b.key.agency in self.agencies)]
        outlying = day_outliers(today, self.baselines.by_key.values()) if self.settings.multivariate else {}
        day_start = last_hour + HOUR - timedelta(days=1)
        alerts = []
        judged = [(b, score_day(b, peers.daily(b), self.settings, outlying.get(b.key)),
                   advance_drift(b, self.settings, day)) for b in sorted(today, key=lambda b: b.key)]
        self.crowd.note(day, "day", [(b, standing_out(b, b.today_counts, "day", self.settings)) for b, _, _ in judged])
        self.crowd.note(day, "drift", [(b, {f.feature for f in drift.findings}) for b, _, drift in judged if drift])
        for baseline, all_verdicts, drift in judged:
            verdicts = self.crowd.without_collective("day", baseline, all_verdicts)
            if drift is not None:
                verdicts += self.crowd.without_collective("drift", baseline, [drift])
            made = []
            for verdict in verdicts:
                start = day_start
                size = "day"
                if verdict.rule == "drift" and verdict.since and verdict.since != day:
                    start = day_start - timedelta(days=(datetime.fromisoformat(day)
                                                        - datetime.fromisoformat(verdict.since)).days)
                    size = "days"
                evidence = [item[1] for item in baseline.today_evidence.get(_main(verdict), [])]
                made.append(build_alert(baseline.key, baseline, verdict, size, start, last_hour + HOUR, evidence,
                                        baseline.today_counts, self.settings))
            learn = not any(v.rule == "volume" for v in verdicts) or self._expected(made, expected)
            baseline.close_day(features_of(baseline.key.kind), learn=learn)
            self.baselines.dirty.add(baseline.key)
            alerts += made
        return alerts

    def _expected(self, alerts: list[Alert], expected: set[str]) -> bool:
        """Whether an analyst said these alerts were expected work (then the window is learned, once)."""
        marked = [alert for alert in alerts if alert.id in expected]
        if self.live:
            for alert in marked:
                record = feedback.feedback_for(self.store, alert.id)
                if record is not None and self.namespace not in record.get("applied", []):
                    feedback.applied(self.store, record, self.namespace)
        return bool(marked)


def _main(verdict: Verdict) -> str:
    return verdict.findings[0].feature if verdict.findings else "all"
