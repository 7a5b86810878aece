"""A small, seeded office for the behaviour detector's tests: officials of two units doing ordinary work on
working days, API clients calling the gateway, and helpers to add one leak on top."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from canhgac.core.model import event_id, to_utc_iso
from canhgac.core.timeutil import VIETNAM
from canhgac.storage.base import Store

#: Monday 2 November 2026, 00:00 local time.
START = datetime(2026, 11, 2, tzinfo=VIETNAM).astimezone(UTC)
AGENCY = "gialai-quynhon"  # an agency of the example configuration
UNITS = ("000.11.31.H08", "000.12.31.H08")


@dataclass(frozen=True)
class Official:
    account: str
    unit: str
    network: str  # the first three octets of the office network
    rate: int  # dossier views per working hour


OFFICIALS = [Official(f"can.bo.{i:02d}", UNITS[i % 2], f"10.52.{i % 2}", 8 + (i % 5)) for i in range(12)]


class Office:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.events: list[dict[str, Any]] = []
        self.counter = 0

    def event(self, at: datetime, official: Official, action: str, **fields: Any) -> dict[str, Any]:
        self.counter += 1
        raw = f"{official.account} {action} {self.counter}".encode()
        event = {"@timestamp": to_utc_iso(at), "event.id": event_id("behaviour-test", self.counter, raw),
                 "event.original": raw.decode(), "event.dataset": "onestop.audit", "organization.id": AGENCY,
                 "user.name": official.account, "egov.unit.id": official.unit, "event.action": action,
                 "event.outcome": "success", "url.domain": "motcua.binhdinh.gov.vn",
                 "source.ip": f"{official.network}.{10 + self.counter % 3}",
                 "user_agent.original": "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0", **fields}
        self.events.append(event)
        return event

    def dossier(self, official: Official, number: int) -> str:
        return f"{official.unit[-6:]}-{number:05d}"

    def ordinary_days(self, days: int) -> None:
        for day in range(days):
            date = START + timedelta(days=day)
            if date.astimezone(VIETNAM).weekday() >= 5:
                continue
            for official in OFFICIALS:
                for hour in (8, 9, 10, 13, 14, 15, 16):
                    for _ in range(self.rng.randint(official.rate - 3, official.rate + 3)):
                        at = date + timedelta(hours=hour, minutes=self.rng.uniform(0, 59.9))
                        record = self.dossier(official, self.rng.randint(1, 90_000))
                        self.event(at, official, self.rng.choice(("dossier-view",) * 6 + ("dossier-print",)),
                                   **{"egov.record.ids": [record], "egov.record.count": 1,
                                      "egov.record.unit": official.unit, "egov.procedure.id": "1.001193"})

    def burst_export(self, official: Official, at: datetime, records: int) -> list[str]:
        ids = []
        for n in range(records // 20):
            event = self.event(at + timedelta(seconds=20 * n), official, "dossier-export",
                               **{"egov.record.count": 20, "egov.record.unit": official.unit})
            ids.append(event["event.id"])
        return ids

    def store(self, store: Store) -> None:
        for first in range(0, len(self.events), 5000):
            store.put_events(self.events[first:first + 5000])
        store.refresh()


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after START, at ``hour``:``minute`` local time."""
    return START + timedelta(days=day, hours=hour, minutes=minute)


class Leaks:
    """One leak of each kind, each on its own official (or client), on top of an ``Office``."""

    def __init__(self, office: Office) -> None:
        self.office = office

    def enumeration(self, official: Official, at: datetime, count: int, first: int = 40_000) -> None:
        for n in range(count):
            record = self.office.dossier(official, first + n)
            self.office.event(at + timedelta(seconds=6 * n), official, "dossier-view",
                              **{"egov.record.ids": [record], "egov.record.count": 1,
                                 "egov.record.unit": official.unit, "egov.procedure.id": "1.001193"})

    def outside_unit(self, official: Official, at: datetime, count: int, other_unit: str) -> None:
        for n in range(count):
            record = f"{other_unit[-6:]}-{self.office.rng.randint(1, 90_000):05d}"
            self.office.event(at + timedelta(seconds=40 * n), official, "dossier-view",
                              **{"egov.record.ids": [record], "egov.record.count": 1, "egov.record.unit": other_unit,
                                 "egov.procedure.id": "1.001193"})

    def night_session(self, official: Official, at: datetime, count: int) -> None:
        for n in range(count):
            record = self.office.dossier(official, self.office.rng.randint(1, 90_000))
            self.office.event(at + timedelta(seconds=50 * n), official, "dossier-download",
                              **{"egov.record.ids": [record], "egov.record.count": 1, "source.ip": "203.0.113.77",
                                 "user_agent.original": "python-requests/2.32", "egov.record.unit": official.unit})

    def drift(self, official: Official, first_day: int, days: int, extra_per_hour: int) -> None:
        for day in range(first_day, first_day + days):
            for hour in (8, 9, 10, 13, 14, 15, 16):
                for n in range(extra_per_hour):
                    record = self.office.dossier(official, self.office.rng.randint(1, 90_000))
                    self.office.event(local(day, hour, 1 + n * 50 // max(extra_per_hour, 1)), official,
                                      "dossier-download", **{"egov.record.ids": [record], "egov.record.count": 1,
                                                             "egov.record.unit": official.unit})
