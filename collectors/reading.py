"""Whole files decoded into batches, in a separate process where that pays (docs/decisions/0037).

On two cores, a forked child reads and decodes the file and runs ``prepare`` on each batch (the pipeline's
stateless half of detection: evidence and rule matching), while the parent runs the ordered, stateful rest
(correlation, storage, grouping) on the batch before. When the parent runs dry, the child hands batches on
unprepared and the parent does all of it, so the two share the work by load. One process is used when there
is one core, for small files, or when threads run (a fork copies only the calling thread). Batches come out
in file order either way, with the same event ids, offsets, dead letters and decoder state.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Full
from typing import Any

from canhgac.collectors.file import FileReader
from canhgac.collectors.lines import DecodeStats, LineDecoder
from canhgac.collectors.status import flag_counts
from canhgac.core.model import DeadLetter, Event

log = logging.getLogger(__name__)
#: Below this many bytes a child process costs more than it saves.
PARALLEL_MIN_BYTES = 4 << 20
#: Batches decoded ahead of the parent at most (bounds memory; the child waits beyond it).
AHEAD = 4


@dataclass
class DecodedBatch:
    lines: int
    events: Sequence[Event]  # a list, or the compact form ``prepare`` made of it (see ``Prepared``)
    letters: list[DeadLetter]
    position: dict[str, Any]  # device, inode, resume offset, parser state: the checkpoint after this batch
    read_bytes: int  # bytes of the lines in this batch (for a progress bar)
    unread_bytes: int  # what is left in the file after it (source lag)
    newest: str | None
    flags: dict[str, int] = field(default_factory=dict)
    stats: DecodeStats = field(default_factory=DecodeStats)  # the decoder's totals after this batch
    prepared: Any = None  # what ``prepare`` made of the events, in the child process


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def use_child_process(path: Path, offset: int) -> bool:
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return (cores() >= 2 and size - offset >= PARALLEL_MIN_BYTES and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods())


Prepare = Callable[[list[Event]], Any]


@dataclass
class Prepared:
    """What ``prepare`` returns to also send the events on in another form (rows the store takes as they
    are): a list of dictionaries is the dearest thing to pickle and unpickle between the processes."""

    value: Any
    events: Sequence[Event]


def decoded_batches(path: Path, decoder: LineDecoder, offset: int, batch_lines: int, *,
                    prepare: Prepare | None = None, parallel: bool | None = None) -> Iterator[DecodedBatch]:
    """The file's batches from ``offset`` to its end; ``decoder.stats`` holds the totals once done. In a
    child process, ``prepare`` (stateless work on the events, such as rule matching) runs there too."""
    if parallel is None:
        parallel = use_child_process(path, offset)
    batches = _in_child(path, decoder, offset, batch_lines, prepare) if parallel else _decode(path, decoder, offset,
                                                                                              batch_lines)
    for batch in batches:
        decoder.stats = batch.stats
        yield batch


def _decode(path: Path, decoder: LineDecoder, offset: int, batch_lines: int) -> Iterator[DecodedBatch]:
    reader = FileReader(path, offset)
    try:
        while True:
            lines = reader.read(batch_lines, final=True)
            events, letters = decoder.decode(lines, final=not lines)
            if not lines and not events and not letters:
                return
            position = {"device": reader.device, "inode": reader.inode,
                        "offset": decoder.resume_offset(reader.offset), "parser": decoder.snapshot()}
            read = lines[-1].offset + len(lines[-1].data) + 1 - lines[0].offset if lines else 0
            yield DecodedBatch(len(lines), events, letters, position, read, reader.size() - reader.offset,
                               max((e["@timestamp"] for e in events), default=None), flag_counts(events),
                               _copy(decoder.stats))
            if not lines:
                return
    finally:
        reader.close()


def _copy(stats: DecodeStats) -> DecodeStats:
    return DecodeStats(stats.lines, stats.events, stats.dead_letters, stats.blank, stats.directives,
                       dict(stats.flagged))


_DONE = "done"


def _child(path: Path, decoder: LineDecoder, offset: int, batch_lines: int, prepare: Prepare | None,
           queue: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends this process
    try:
        for batch in _decode(path, decoder, offset, batch_lines):
            # Share the work: while the parent is starved it gets the batch as it is and does all of it,
            # else the stateless part is done here (the parent is then busy with earlier batches).
            if prepare is not None and batch.events and _parent_busy(queue):
                done = prepare(batch.events)  # type: ignore[arg-type]
                if isinstance(done, Prepared):
                    batch.prepared, batch.events = done.value, done.events
                else:
                    batch.prepared = done
            _put(queue, batch, parent)
        _put(queue, _DONE, parent)
    except Exception as exc:  # reported to the parent, which raises it
        _put(queue, RuntimeError(f"reading {path} failed in the decoding process: {type(exc).__name__}: {exc}"),
             parent)


def _put(queue: Any, item: object, parent: int) -> None:
    """Hand an item on; end this process if the parent is gone (killed: nobody will read it any more)."""
    while True:
        try:
            queue.put(item, timeout=1.0)
            return
        except Full:
            if os.getppid() != parent:
                os._exit(1)


def _parent_busy(queue: Any) -> bool:
    """Whether batches wait in the queue, i.e. the parent has not caught up with this process."""
    try:
        return bool(queue.qsize())
    except NotImplementedError:  # macOS has no sem_getvalue: always prepare
        return True


def _in_child(path: Path, decoder: LineDecoder, offset: int, batch_lines: int,
              prepare: Prepare | None) -> Iterator[DecodedBatch]:
    context = multiprocessing.get_context("fork")  # the child inherits the decoder, parser and enricher as built
    queue = context.Queue(AHEAD)
    child = context.Process(target=_child, args=(path, decoder, offset, batch_lines, prepare, queue, os.getpid()),
                            name="canhgac-decode", daemon=True)
    child.start()
    try:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if child.is_alive():
                    continue
                raise RuntimeError(f"the decoding process of {path} ended with code {child.exitcode}") from None
            if isinstance(item, DecodedBatch):
                yield item
            elif isinstance(item, BaseException):
                raise item
            else:
                break
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        queue.close()
