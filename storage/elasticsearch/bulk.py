"""Bulk writes and back-pressure for the Elasticsearch store (docs/decisions/0035-elasticsearch-write-path.md).

``send`` cuts actions into bulks bounded in documents and bytes, and retries what the cluster could not take
yet: the whole request on 429/502/503/504, a timeout or a cut connection; single items on 429/503. Waits grow
exponentially with full jitter, so many nodes backing off at once do not come back at once. Retrying is safe
because every document has a stable id (``create`` of an existing one answers 409, taken as "already there")
and conditional writes carry ``if_seq_no``/``if_primary_term``. Items the cluster refuses for good (a mapping
error) come back as failures with the reason, for the caller to dead-letter; anything else it cannot place
raises ``StoreUnavailable`` after ``Backoff.give_up_after`` seconds, and the caller keeps its position.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from canhgac.core.errors import StoreUnavailable
from elasticsearch import ApiError, ConnectionError, ConnectionTimeout

#: Statuses that mean "not now": the request or item is sent again after a pause.
RETRIABLE = frozenset({429, 502, 503, 504})
MAX_DOCS = 10_000
MAX_BYTES = 8 * 1024 * 1024


@dataclass
class Backoff:
    """Exponential waits with full jitter: attempt n sleeps uniformly in [0, min(cap, base·2ⁿ)]."""

    base: float = 0.05
    cap: float = 5.0
    give_up_after: float = 60.0
    #: A connection that fails this many times in a row means the cluster is down, not busy: the caller hears
    #: it soon (``StoreUnavailable``) and keeps its batch or spools, instead of waiting here.
    connection_attempts: int = 3
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    waits: int = 0  # how many times anything waited: what the fault tests and the bench look at

    def pause(self, attempt: int) -> None:
        self.waits += 1
        self.sleep(self.rng.uniform(0, min(self.cap, self.base * 2 ** attempt)))


def is_retriable(exc: Exception) -> bool:
    """A cut connection, a timeout, or an answer saying the cluster is busy or unavailable."""
    if isinstance(exc, ConnectionError | ConnectionTimeout):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in RETRIABLE


def with_backoff(call: Callable[[], Any], backoff: Backoff, *,
                 on_unknown: Callable[[], None] | None = None) -> Any:
    """``call()``, again after pauses while it fails for a reason that may pass; ``StoreUnavailable`` when
    ``backoff.give_up_after`` seconds pass. ``on_unknown`` is told when a failed attempt may still have
    reached the cluster (a cut connection, a timeout), so that a later 409 may be that attempt's own write."""
    started = time.monotonic()
    attempt = 0
    cut = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not is_retriable(exc):
                raise
            lost = isinstance(exc, ConnectionError | ConnectionTimeout)
            cut = cut + 1 if lost else 0
            if lost and on_unknown is not None:
                on_unknown()
            if cut >= backoff.connection_attempts or time.monotonic() - started > backoff.give_up_after:
                raise StoreUnavailable(f"Elasticsearch did not accept the request: {exc}") from exc
        backoff.pause(attempt)
        attempt += 1


@dataclass(frozen=True)
class Action:
    """One bulk action: ``create``, ``index`` (with ``if_seq_no``/``if_primary_term`` when conditional)."""

    op: str
    index: str
    doc_id: str
    source: dict[str, Any]
    if_seq_no: int | None = None
    if_primary_term: int | None = None

    def lines(self) -> bytes:
        meta: dict[str, Any] = {"_index": self.index, "_id": self.doc_id}
        if self.if_seq_no is not None:
            meta |= {"if_seq_no": self.if_seq_no, "if_primary_term": self.if_primary_term}
        return orjson.dumps({self.op: meta}) + b"\n" + orjson.dumps(self.source) + b"\n"


@dataclass(frozen=True)
class Outcome:
    action: Action
    status: int
    error: dict[str, Any] | None = None
    version: str | None = None  # "seq_no:primary_term" of the written document
    #: A 409 after an attempt whose outcome is unknown: perhaps the document was there before, perhaps that
    #: attempt wrote it.
    uncertain: bool = False

    @property
    def written(self) -> bool:
        return self.status in (200, 201)

    @property
    def reason(self) -> str:
        error = self.error or {}
        return f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()


def chunks(actions: Iterable[Action], *, max_docs: int = MAX_DOCS,
           max_bytes: int = MAX_BYTES) -> Iterator[list[tuple[Action, bytes]]]:
    """Actions with their serialized lines, in bulks of at most ``max_docs`` and (but for a single document
    larger than that) ``max_bytes``."""
    chunk: list[tuple[Action, bytes]] = []
    size = 0
    for action in actions:
        payload = action.lines()
        if chunk and (len(chunk) >= max_docs or size + len(payload) > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append((action, payload))
        size += len(payload)
    if chunk:
        yield chunk


def send(client: Any, actions: Iterable[Action], backoff: Backoff, *, max_docs: int = MAX_DOCS,
         max_bytes: int = MAX_BYTES) -> list[Outcome]:
    """Every action's final outcome, in order: written, 409 (exists or a version conflict), or refused for good
    (4xx other than 429). Retriable failures are retried until ``backoff.give_up_after``."""
    outcomes: list[Outcome] = []
    for chunk in chunks(actions, max_docs=max_docs, max_bytes=max_bytes):
        outcomes += _send_chunk(client, chunk, backoff)
    return outcomes


def _send_chunk(client: Any, chunk: Sequence[tuple[Action, bytes]], backoff: Backoff) -> list[Outcome]:
    done: dict[int, Outcome] = {}
    pending = list(range(len(chunk)))
    started = time.monotonic()
    attempt = 0
    unknown: list[bool] = []
    while pending:
        body = b"".join(chunk[n][1] for n in pending)
        response = with_backoff(lambda body=body: client.bulk(operations=body), backoff,
                                on_unknown=lambda: unknown.append(True))
        still: list[int] = []
        for n, item in zip(pending, response["items"], strict=True):
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if status in RETRIABLE:
                still.append(n)
                continue
            version = f"{result['_seq_no']}:{result['_primary_term']}" if "_seq_no" in result else None
            done[n] = Outcome(chunk[n][0], status, result.get("error"), version, bool(unknown) and status == 409)
        pending = still
        if pending:
            if time.monotonic() - started > backoff.give_up_after:
                raise StoreUnavailable(f"Elasticsearch kept refusing {len(pending)} documents (busy)")
            backoff.pause(attempt)
            attempt += 1
    return [done[n] for n in range(len(chunk))]


def mapping_error(outcome: Outcome) -> bool:
    """Refused for the document's content (it will never fit the mapping), not for the cluster's state."""
    return 400 <= outcome.status < 500 and outcome.status not in (404, 409) and outcome.status not in RETRIABLE
