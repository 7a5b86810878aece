"""Test doubles for delivery: a store that is down for a while, a clock that runs fast."""

from __future__ import annotations

import time
from typing import Any

from canhgac.core.errors import StoreUnavailable
from canhgac.storage.base import Store

WRITES = ("put_events", "put_dead_letters", "put_alerts", "put_state", "create_incident", "update_incident",
          "append_audit", "next_sequence")


class FastClock:
    """Monotonic time running ``speed`` times faster than the wall clock: a 30 s outage takes 0.3 s."""

    def __init__(self, speed: float = 100.0) -> None:
        self.speed = speed
        self.start = time.monotonic()

    def __call__(self) -> float:
        return (time.monotonic() - self.start) * self.speed


class FlakyStore:
    """Delegates to a real store, but refuses every write while it is "stopped"."""

    def __init__(self, inner: Store, clock: Any = time.monotonic) -> None:
        self._inner = inner
        self._clock = clock
        self._down_until = -1.0
        self.refused = 0
        self.kind = inner.kind

    def stop_for(self, seconds: float) -> None:
        self._down_until = self._clock() + seconds

    @property
    def down(self) -> bool:
        return self._clock() < self._down_until

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in WRITES:
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.refused += 1
                raise StoreUnavailable("the store is stopped (test)")
            return attribute(*args, **kwargs)
        return guarded


def access_line(n: int) -> str:
    second = n % 60
    return (f'100.64.{n // 250 % 250}.{n % 250 + 1} - - [22/Nov/2026:15:{n // 60 % 60:02d}:{second:02d} +0700] '
            f'"GET /ho-so/{n}?q=%C4%91%C4%83ng+k%C3%BD HTTP/1.1" 200 {n % 5000} "-" "Mozilla/5.0"\n')
