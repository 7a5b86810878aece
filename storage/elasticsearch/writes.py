"""The write path of the Elasticsearch store (docs/decisions/0035-elasticsearch-write-path.md): bulks with
back-pressure, incident writes without forced refreshes (read back through the process's ``IncidentView``),
incident numbers in blocks, and units of work whose writes go out as bulks when they end.

A mixin of ``ElasticsearchStore``, kept apart so each file stays readable; it uses the store's ``client``,
``backoff``, ``_view``, ``_sequences``, ``_units``, ``_index``, ``_guard``, ``_search`` and ``_clock``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from canhgac.core.errors import NotFound, StoreUnavailable, VersionConflict
from canhgac.core.model import OPEN_STATES, DeadLetter, Incident, stable_id, to_utc_iso, utcnow
from canhgac.storage.base import UnitOfWork
from canhgac.storage.elasticsearch.bulk import Action, Backoff, Outcome, mapping_error, send
from canhgac.storage.elasticsearch.incident_dsl import incident_doc, incident_from_hit
from canhgac.storage.elasticsearch.local_view import IncidentView, SequenceBlocks
from canhgac.storage.elasticsearch.work import EsUnit
from elasticsearch import ConflictError, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError

#: Closed incidents the grouping lookup is answered for from the process (a reopen looks no further back).
VIEW_CLOSED_DAYS = 30


class WritePath:
    client: Any
    backoff: Backoff
    _view: IncidentView
    _sequences: SequenceBlocks
    _units: threading.local

    def _index(self, family: str) -> str:
        raise NotImplementedError

    def _guard(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _search(self, index: str, query: dict[str, Any], *, size: int, sort: list[Any] | None = None,
                search_after: list[Any] | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _send(self, actions: Iterable[Action]) -> list[Outcome]:
        try:
            return send(self.client, actions, self.backoff)
        except EsConnectionError as exc:
            raise StoreUnavailable(f"Elasticsearch unreachable: {exc}") from exc

    def _bulk_create(self, index_of: Any, docs: Iterable[tuple[str, dict[str, Any]]],
                     refused: list[tuple[dict[str, Any], str]] | None = None, *,
                     exact_new: bool = False) -> list[str]:
        """Create documents that do not exist yet; return the ids that were created. A document the cluster
        refuses for its content goes to ``refused`` with the reason (if given; otherwise it is an error).
        ``exact_new`` (plain indices only: a data stream has no GET by id): after a cut connection, check which
        409s were the lost attempt's own writes, so they count as created."""
        created: list[str] = []
        failures: list[Outcome] = []
        outcomes = self._send(Action("create", index_of(doc), doc_id, doc) for doc_id, doc in docs)
        ours = self._written_by_lost_attempt([o for o in outcomes if o.uncertain]) if exact_new else set()
        for outcome in outcomes:
            if outcome.written or outcome.action.doc_id in ours:
                created.append(outcome.action.doc_id)
            elif outcome.status == 409:
                continue  # stored before: a repeat
            elif refused is not None and mapping_error(outcome):
                refused.append((outcome.action.source, outcome.reason))
            else:
                failures.append(outcome)
        if failures:
            raise StoreUnavailable(f"bulk write refused {len(failures)} documents: {failures[0].reason}")
        return created

    def _written_by_lost_attempt(self, outcomes: list[Outcome]) -> set[str]:
        """Of these 409s after a cut connection, the documents stored exactly as sent: taken as that
        attempt's own writes, so that a caller counting what is new (alerts → incidents) loses nothing."""
        if not outcomes:
            return set()
        response = self._guard(self.client.mget, docs=[{"_index": o.action.index, "_id": o.action.doc_id}
                                                       for o in outcomes])
        # Answers come in the order asked (a data stream answers with its backing index's name).
        return {o.action.doc_id for o, doc in zip(outcomes, response["docs"], strict=True)
                if doc.get("found") and doc.get("_source") == o.action.source}

    def _unit(self) -> EsUnit | None:
        stack: list[EsUnit] = getattr(self._units, "stack", [])
        return stack[-1] if stack else None

    def create_incident(self, incident: Incident) -> Incident:
        doc = incident_doc(incident)
        unit = self._unit()
        if unit is not None:
            held = unit.hold_incident(incident, Action("create", self._index("incidents"), incident.id, doc))
            self._view.put(held)
            return held
        try:
            response = self._guard(self.client.index, index=self._index("incidents"), id=incident.id,
                                   document=doc, op_type="create")
        except ConflictError:
            stored = self._get_raw("incidents", incident.id)  # a retry of our own write that got through?
            if stored is None or stored["_source"] != doc:
                raise VersionConflict(incident.id, "new", "exists") from None
            response = stored
        return self._keep(incident.model_copy(update={"version": _version(response)}))

    def _keep(self, incident: Incident, *, force: bool = False) -> Incident:
        self._view.put(incident, force=force)
        return incident

    def _get_raw(self, family: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return self._guard(self.client.get, index=self._index(family), id=doc_id)
        except NotFoundError:
            return None

    def update_incident(self, incident: Incident, *, expected_version: str) -> Incident:
        unit = self._unit()
        held = unit.incidents.get(incident.id) if unit is not None else None
        if unit is not None and held is not None and expected_version == held.incident.version:
            # A second change in the same unit: it replaces the held write, under the first one's condition.
            action = held.action
            replaced = unit.hold_incident(incident, Action(action.op, action.index, action.doc_id,
                                                           incident_doc(incident), action.if_seq_no,
                                                           action.if_primary_term))
            self._view.put(replaced)
            return replaced
        try:
            seq_no, primary_term = (int(part) for part in expected_version.split(":"))
        except ValueError:
            raise VersionConflict(incident.id, expected_version, None) from None
        doc = incident_doc(incident)
        if unit is not None:
            held_incident = unit.hold_incident(incident, Action("index", self._index("incidents"), incident.id, doc,
                                                                seq_no, primary_term))
            self._view.put(held_incident)
            return held_incident
        try:
            response = self._guard(self.client.index, index=self._index("incidents"), id=incident.id,
                                   document=doc, if_seq_no=seq_no, if_primary_term=primary_term)
        except ConflictError:
            current = self._get_raw("incidents", incident.id)
            if current is None:
                raise NotFound(f"incident {incident.id} does not exist") from None
            if current["_source"] == doc:  # a retry of our own write that got through
                return self._keep(incident.model_copy(update={"version": _version(current)}))
            fresh = self._keep(incident_from_hit(current, _version(current)))
            raise VersionConflict(incident.id, expected_version, fresh.version) from None
        return self._keep(incident.model_copy(update={"version": _version(response)}))

    def _load_view(self, changed_since: datetime | None) -> list[Incident]:
        """Open incidents, and closed ones changed lately: what a grouping lookup may return (with
        ``changed_since``: only those changed since)."""
        lately = to_utc_iso(utcnow() - timedelta(days=VIEW_CLOSED_DAYS))
        query: dict[str, Any] = {"bool": {"should": [{"terms": {"state": [s.value for s in OPEN_STATES]}},
                                                     {"range": {"updated": {"gte": lately}}}],
                                          "minimum_should_match": 1}}
        if changed_since is not None:
            query["bool"]["filter"] = [{"range": {"updated": {"gte": to_utc_iso(changed_since)}}}]
        else:
            # A whole load happens at start and after a failed write: what a process that just died, or the
            # half of a bulk that got through, wrote in the last second is searchable only after a refresh,
            # and grouping without it would open those incidents a second time.
            self._guard(self.client.indices.refresh, index=self._index("incidents"), ignore_unavailable=True)
        found: list[Incident] = []
        after: list[Any] | None = None
        while True:
            hits = self._search(self._index("incidents"), query, size=1000, sort=[{"id": "asc"}], search_after=after)
            found += [incident_from_hit(h, _version(h)) for h in hits]
            if len(hits) < 1000:
                return found
            after = hits[-1]["sort"]

    def next_sequence(self, name: str) -> int:
        return self._sequences.next(name)

    def _reserve_sequence(self, name: str, size: int) -> int:
        """Reserve ``size`` numbers with one conditional write; return the first. The document keeps the
        highest number reserved, so numbers a stopped process did not use are skipped, never repeated."""
        index, doc_id = self._index("state"), f"sequence:{name}"
        while True:
            current = self._get_raw("state", doc_id)
            try:
                if current is None:
                    self._guard(self.client.index, index=index, id=doc_id, document={"number": size},
                                op_type="create")
                    return 1
                number = int(current["_source"]["number"])
                self._guard(self.client.index, index=index, id=doc_id, document={"number": number + size},
                            if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"])
                return number + 1
            except ConflictError:
                continue  # another process reserved meanwhile (or our own write got through): read again

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        stack: list[EsUnit] = self._units.__dict__.setdefault("stack", [])
        unit = EsUnit()
        stack.append(unit)
        try:
            yield unit
        finally:
            stack.pop()
            self._flush(unit, stack[-1] if stack else None)

    def _flush(self, unit: EsUnit, parent: EsUnit | None) -> None:
        """The held incident writes in one bulk; then audit entries and state, to ``parent`` or in one more."""
        held = list(unit.incidents.values())
        try:
            outcomes = self._send(h.action for h in held) if held else []
        except Exception:
            self._view.invalidate()  # the held writes it shows were not stored
            raise
        for item, outcome in zip(held, outcomes, strict=True):
            incident_id = item.incident.id
            if outcome.written:
                unit.written[incident_id] = self._keep(item.incident.model_copy(update={"version": outcome.version}),
                                                       force=True)
                continue
            current = self._get_raw("incidents", incident_id)
            if current is not None and current["_source"] == outcome.action.source:  # our retry got through
                unit.written[incident_id] = self._keep(incident_from_hit(current, _version(current)), force=True)
                continue
            if outcome.status != 409:
                self._view.invalidate()
                raise StoreUnavailable(f"incident {incident_id} was not stored: {outcome.reason}")
            unit.conflicts.add(incident_id)
            if current is None:
                self._view.forget(incident_id)
            else:
                self._keep(incident_from_hit(current, _version(current)), force=True)
        unit.audits = [(owner, a) for owner, a in unit.audits if owner not in unit.conflicts]
        unit.incidents.clear()
        if parent is not None:
            parent.take_rest(unit)
            return
        rest = [a for _, a in unit.audits] + list(unit.states.values())
        failed = [o for o in self._send(rest) if not o.written and not (o.status == 409 and o.action.op == "create")]
        if failed:
            raise StoreUnavailable(f"{len(failed)} audit or state writes were refused: {failed[0].reason}")


def refused_letter(doc: dict[str, Any], reason: str, *, kind: str = "event") -> DeadLetter:
    """A document the cluster refused for its content (a mapping error), kept as a dead letter with why."""
    if kind == "event":
        doc_id, raw = str(doc.get("event.id", "")), str(doc.get("event.original") or doc)
        path, offset, agency = str(doc.get("log.file.path", "")), int(doc.get("log.offset") or 0), \
            doc.get("organization.id")
        source = str(doc.get("event.dataset") or doc.get("event.module") or "event")
    else:
        doc_id, raw, path, offset, agency, source = str(doc.get("id", "")), str(doc), "", 0, doc.get("agency"), kind
    return DeadLetter(id=stable_id("refused", kind, doc_id), received=utcnow(), source_format=source, path=path,
                      offset=offset, reason=f"Elasticsearch refused the {kind}: {reason}"[:2000], raw=raw[:100_000],
                      agency=agency)



def _version(response: Any) -> str:
    return f"{response['_seq_no']}:{response['_primary_term']}"
