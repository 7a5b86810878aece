"""Follow log files as they grow: resume from checkpoints, notice rotation and truncation.

A checkpoint (device, inode, offset) is written only after ``on_batch`` returns, i.e. after the store has
committed the batch, so a crash re-reads at most one batch — and stable event ids make that harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from canhgac.model import DeadLetter, Event
from collectors.file import FileReader, file_identity
from collectors.lines import LineDecoder
from storage.base import Store

log = logging.getLogger(__name__)
BatchHandler = Callable[[list[Event], list[DeadLetter]], None]


@dataclass
class TailTarget:
    decoder: LineDecoder
    reader: FileReader | None = None
    last_error: str | None = None

    @property
    def path(self) -> str:
        return self.decoder.origin.path

    @property
    def checkpoint_key(self) -> str:
        return f"file:{self.decoder.origin.stream}"


class FileTailer:
    def __init__(self, targets: Sequence[TailTarget], store: Store, on_batch: BatchHandler, *,
                 poll_seconds: float = 0.25, batch_lines: int = 2000) -> None:
        self.targets = list(targets)
        self.store = store
        self.on_batch = on_batch
        self.poll_seconds = poll_seconds
        self.batch_lines = batch_lines

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            busy = False
            for target in self.targets:
                try:
                    busy |= self.poll(target)
                except OSError as exc:
                    target.last_error = str(exc)
                    log.warning("reading %s failed: %s", target.path, exc)
            if not busy:
                stop.wait(self.poll_seconds)
        for target in self.targets:
            if target.reader is not None:
                target.reader.close()

    def poll(self, target: TailTarget) -> bool:
        """Read what is new in one file; True if anything was read."""
        if target.reader is None and not self._open(target):
            return False
        reader = target.reader
        assert reader is not None
        if reader.size() < reader.offset:  # copytruncate: the file was emptied in place
            log.info("%s was truncated; reading it from the start", target.path)
            self._reopen(target, 0)
            reader = target.reader
            assert reader is not None
        lines = reader.read(self.batch_lines)
        if lines:
            self._deliver(target, lines)
            return True
        identity = file_identity(target.path)
        if identity is not None and identity != (reader.device, reader.inode):  # renamed away, new file made
            rest = reader.read(self.batch_lines, final=True)
            if rest:
                self._deliver(target, rest)
                return True
            log.info("%s was rotated; following the new file", target.path)
            self._reopen(target, 0)
            return True
        return False

    def _open(self, target: TailTarget) -> bool:
        identity = file_identity(target.path)
        if identity is None:
            return False
        saved = self.store.get_state(target.checkpoint_key) or {}
        same_file = (saved.get("device"), saved.get("inode")) == identity
        self._reopen(target, int(saved.get("offset", 0)) if same_file else 0)
        return True

    def _reopen(self, target: TailTarget, offset: int) -> None:
        if target.reader is not None:
            target.reader.close()
        target.reader = FileReader(target.path, offset)
        if target.reader.size() < offset:
            target.reader.close()
            target.reader = FileReader(target.path, 0)

    def _deliver(self, target: TailTarget, lines: list) -> None:  # type: ignore[type-arg]
        events, letters = target.decoder.decode(lines)
        self.on_batch(events, letters)
        reader = target.reader
        assert reader is not None
        self.store.put_state(target.checkpoint_key,
                             {"device": reader.device, "inode": reader.inode, "offset": reader.offset})
        target.last_error = None
