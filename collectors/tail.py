"""Follow log files as they grow: resume from checkpoints, follow rename-and-create and copytruncate rotation,
and read rotated copies (``.1``, ``.2.gz``) under the live file's stream name (see
docs/decisions/0006-checkpoints.md).

A ``FileSource`` is a Bytewax-style partition: ``next_batch()`` never blocks and returns the lines read so
far as a ``Batch`` carrying the checkpoint to write once the store has committed it; ``snapshot()`` is that
checkpoint. The ``FileTailer`` loop polls sources and hands their batches to the ``Delivery``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from canhgac.collectors.delivery import Batch, Delivery
from canhgac.collectors.file import FileReader, file_identity
from canhgac.collectors.lines import LineDecoder
from canhgac.collectors.raw import RawLine
from canhgac.collectors.rotation import (
    HEAD_BYTES,
    find_by_head,
    head_digest,
    matches_head,
    rotated_siblings,
)
from canhgac.collectors.status import StatusBoard, flag_counts
from canhgac.storage.base import Store

log = logging.getLogger(__name__)


class FileSource:
    def __init__(self, decoder: LineDecoder, *, batch_lines: int = 2000, backfill: bool = False,
                 board: StatusBoard | None = None) -> None:
        self.decoder = decoder
        self.path = Path(decoder.origin.stream)
        self.batch_lines = batch_lines
        self.backfill = backfill
        self.board = board
        self.reader: FileReader | None = None
        self._backlog: deque[FileReader] = deque()  # rotated copies to finish before the live file, opened
        self._in_backlog = False
        self._head = b""
        self.last_error: str | None = None
        if board is not None:
            origin = decoder.origin
            board.register(self.id, "file", format=decoder.parser.format, path=origin.path, agency=origin.agency,
                           system=origin.system)

    @property
    def id(self) -> str:
        return f"file:{self.path}"

    @property
    def checkpoint_key(self) -> str:
        return f"file:{self.path}"

    # opening ----------------------------------------------------------------------------------------
    def open(self, saved: dict[str, Any] | None) -> bool:
        """Plan what to read from the saved checkpoint; False while the live file does not exist yet."""
        identity = file_identity(self.path)
        siblings = rotated_siblings(self.path) if saved or self.backfill else []
        self.decoder.restore((saved or {}).get("parser"))
        start = 0
        if saved:
            head = saved.get("head") or {}
            length, digest = int(head.get("length", 0)), str(head.get("digest", ""))
            same_inode = (saved.get("device"), saved.get("inode")) == identity
            if same_inode and (not length or matches_head(self.path, length, digest)):
                start = int(saved.get("offset", 0))
            else:
                # The file we were reading was rotated while we were away: finish it first.
                copy = find_by_head(siblings, length, digest)
                if copy is not None:
                    newer = siblings[siblings.index(copy) + 1:]
                    self._plan([(copy, int(saved.get("offset", 0))), *((p, 0) for p in newer)])
                elif self.backfill:
                    self._plan([(p, 0) for p in siblings])
        elif self.backfill:
            self._plan([(p, 0) for p in siblings])
        if self._backlog:
            return self._next_backlog(then_live_at=start)
        if identity is None:
            return False
        self._open_live(start)
        return True

    def _open_live(self, offset: int) -> None:
        self._close_reader()
        reader = FileReader(self.path, offset)
        if reader.size() < offset:  # shrank while we were away
            reader.close()
            reader = FileReader(self.path, 0)
        self.reader = reader
        self._in_backlog = False
        self._head = reader.head()

    def _plan(self, entries: list[tuple[Path, int]]) -> None:
        """Open rotated copies now: logrotate renames them (``.1`` → ``.2``) and compresses them, but an open
        file stays the same file."""
        queued = {(r.device, r.inode) for r in self._backlog}
        if self.reader is not None:
            queued.add((self.reader.device, self.reader.inode))
        for path, offset in entries:
            try:
                reader = FileReader(path, offset)
            except (OSError, EOFError) as exc:  # compressed and removed meanwhile: its .gz is found next round
                log.warning("cannot read rotated %s: %s", path, exc)
                continue
            if (reader.device, reader.inode) in queued:
                reader.close()
                continue
            queued.add((reader.device, reader.inode))
            self._backlog.append(reader)

    def _next_backlog(self, then_live_at: int = 0) -> bool:
        self._close_reader()
        if self._backlog:
            self.reader = self._backlog.popleft()
            self._in_backlog = True
            self._head = self.reader.head()
            return True
        if file_identity(self.path) is None:
            return False
        self._open_live(then_live_at)
        return True

    def _close_reader(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    # reading ----------------------------------------------------------------------------------------
    def next_batch(self) -> Batch | None:
        """What is new, or None. Never blocks on anything but the disk."""
        for _ in range(4):  # at most a few switches (backlog → live, rotation) per call
            reader = self.reader
            if reader is None:  # the live file was missing when the backlog ran out: wait for it
                if file_identity(self.path) is None:
                    return None
                self._open_live(0)
                continue
            if not self._in_backlog and self._truncated(reader):
                continue
            lines = reader.read(self.batch_lines, final=self._in_backlog)
            if lines:
                return self._batch(lines)
            if self._in_backlog:
                self._plan(self._rotated_after(reader))
                if not self._next_backlog():
                    return None
                continue
            identity = file_identity(self.path)
            if identity is not None and identity != (reader.device, reader.inode):  # renamed away, new file made
                rest = reader.read(self.batch_lines, final=True)
                if rest:
                    return self._batch(rest)
                log.info("%s was rotated; following the new file", self.path)
                self._plan(self._rotated_after(reader))
                if not self._next_backlog(then_live_at=0):
                    return None
                continue
            self._lag(reader)
            return None
        return None

    def _truncated(self, reader: FileReader) -> bool:
        """copytruncate: the file was emptied in place (and perhaps written again past our offset). The part
        we had not read yet is in the copy, which has the same first bytes: finish it, then start again."""
        size = reader.size()
        if size >= reader.offset and reader.head(len(self._head)) == self._head:
            if len(self._head) < HEAD_BYTES and size > len(self._head):
                self._head = reader.head()
            return False
        log.info("%s was truncated; reading it from the start", self.path)
        siblings = rotated_siblings(self.path)
        copy = find_by_head(siblings, len(self._head), head_digest(self._head)) if self._head else None
        if copy is not None:
            # The copy holds what we had not read; copies made after it (if we lag more than one
            # rotation) hold whole generations.
            self._plan([(copy, reader.offset), *((p, 0) for p in siblings[siblings.index(copy) + 1:])])
            self._next_backlog(then_live_at=0)
        else:
            self._open_live(0)
        return True

    def _rotated_after(self, reader: FileReader) -> list[tuple[Path, int]]:
        """Copies rotated after the file ``reader`` holds: a tail lagging more than one rotation behind
        finds the generations in between here, or it would skip them."""
        siblings = rotated_siblings(self.path)
        for index, candidate in enumerate(siblings):
            identity = file_identity(candidate)
            if identity == (reader.device, reader.inode) or (
                    self._head and find_by_head([candidate], len(self._head), head_digest(self._head))):
                return [(p, 0) for p in siblings[index + 1:]]
        return []

    def _batch(self, lines: list[RawLine]) -> Batch:
        events, letters = self.decoder.decode(lines)
        batch = Batch(self.id, events, letters, {self.checkpoint_key: self.snapshot()}, len(lines))
        if self.board is not None:
            newest = max((e["@timestamp"] for e in events), default=None)
            self.board.read(self.id, lines=len(lines), events=len(events), dead_letters=len(letters),
                            **flag_counts(events), newest=newest)
            if self.reader is not None and not self._in_backlog:
                self._lag(self.reader)
        return batch

    def _lag(self, reader: FileReader) -> None:
        if self.board is not None:
            self.board.lag(self.id, reader.size() - reader.offset)

    def snapshot(self) -> dict[str, Any]:
        """The checkpoint after the last batch handed out: file identity, resume offset, first bytes, parser."""
        reader = self.reader
        if reader is None:
            return {}
        state: dict[str, Any] = {"device": reader.device, "inode": reader.inode,
                                 "offset": self.decoder.resume_offset(reader.offset),
                                 "head": {"length": len(self._head), "digest": head_digest(self._head)}}
        parser_state = self.decoder.snapshot()
        if parser_state is not None:
            state["parser"] = parser_state
        return state

    def close(self) -> None:
        self._close_reader()
        while self._backlog:
            self._backlog.popleft().close()


class FileTailer:
    """Polls file sources and delivers their batches; opens each source from its stored checkpoint."""

    def __init__(self, sources: Sequence[FileSource], store: Store, delivery: Delivery, *,
                 poll_seconds: float = 0.25) -> None:
        self.sources = list(sources)
        self.store = store
        self.delivery = delivery
        self.poll_seconds = poll_seconds
        self._opened: set[int] = set()

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                if not self.poll_all():
                    stop.wait(self.poll_seconds)
        finally:
            for source in self.sources:
                source.close()

    def poll_all(self) -> bool:
        busy = False
        for source in self.sources:
            try:
                busy |= self.poll(source)
            except Exception as exc:  # a file that cannot be read (or a store that cannot be asked) waits
                source.last_error = f"{type(exc).__name__}: {exc}"
                if source.board is not None:
                    source.board.error(source.id, source.last_error)
                log.warning("reading %s failed: %s", source.path, source.last_error)
        return busy

    def poll(self, source: FileSource) -> bool:
        """Read and deliver what is new in one file; True if anything was read."""
        if id(source) not in self._opened:
            saved = self.store.get_state(source.checkpoint_key)  # raises while the store is down: retried
            if not source.open(saved):
                return False
            self._opened.add(id(source))
        batch = source.next_batch()
        if batch is None:
            return False
        self.delivery.submit(batch)
        source.last_error = None
        return True
