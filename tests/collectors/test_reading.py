"""Whole files decoded in a child process (docs/decisions/0037): the same batches, ids, offsets, dead letters
and positions as in one process; a failure there is raised here; one process for small files or one core."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from canhgac.collectors import reading
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.reading import DecodedBatch, decoded_batches

from tests.collectors.support import access_line


def write_log(path: Path, count: int) -> None:
    lines = [access_line(n) if n % 97 else "not an access line\n" for n in range(count)]
    lines.insert(10, "\n")
    text = "".join(lines) + access_line(count).rstrip("\n")  # a last line without a newline
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")


def decoder_for(path: Path, fmt: str = "nginx") -> LineDecoder:
    return LineDecoder(get_parser(fmt), Origin(str(path), str(path), "binhdinh", "dvc-binhdinh"))


def summary(batches: list[DecodedBatch]) -> list[tuple[object, ...]]:
    return [(b.lines, [(e["event.id"], e["log.offset"], e["@timestamp"]) for e in b.events],
             [(d.id, d.offset, d.reason, d.raw) for d in b.letters], b.position, b.read_bytes, b.unread_bytes,
             b.newest, b.flags) for b in batches]


@pytest.mark.parametrize("name", ["access.log", "access.log.1.gz"])
def test_a_child_process_gives_the_same_batches_as_one_process(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_log(path, 3000)
    alone, child = decoder_for(path), decoder_for(path)
    expected = list(decoded_batches(path, alone, 0, 400, parallel=False))
    got = list(decoded_batches(path, child, 0, 400, parallel=True))
    assert summary(got) == summary(expected) and len(expected) > 5
    assert child.stats == alone.stats and alone.stats.dead_letters == 31 and alone.stats.blank == 1
    # resuming in the middle of the file: the same again from that offset
    middle = expected[3].position["offset"]
    assert summary(list(decoded_batches(path, decoder_for(path), middle, 400, parallel=True))) == \
        summary(list(decoded_batches(path, decoder_for(path), middle, 400, parallel=False)))


def test_the_child_carries_the_parser_state_of_a_resumed_file(tmp_path: Path) -> None:
    path = tmp_path / "u_ex261122.log"
    header = "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n"
    path.write_text(header + "".join(f"2026-11-22 08:00:{n % 60:02d} 10.0.0.{n % 200 + 1} GET /a/{n} 200\n"
                                     for n in range(900)), encoding="utf-8")
    first = list(decoded_batches(path, decoder_for(path, "iis"), 0, 300, parallel=False))
    resumed = decoder_for(path, "iis")
    resumed.restore(first[0].position["parser"])  # what --resume restores before reading on
    got = list(decoded_batches(path, resumed, first[0].position["offset"], 300, parallel=True))
    rest = [e["url.path"] for b in first[1:] for e in b.events]
    assert [e["url.path"] for b in got for e in b.events] == rest and rest[-1] == "/a/899"


def test_prepared_work_arrives_with_its_batch(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    write_log(path, 2000)
    got = list(decoded_batches(path, decoder_for(path), 0, 200, parallel=True,
                               prepare=lambda events: [e["event.id"] for e in events]))
    # the child prepares a batch when the parent is busy, else hands it on as it is for the parent to do
    assert all(b.prepared in (None, [e["event.id"] for e in b.events]) for b in got)


def fail(events: list[object]) -> None:
    raise ValueError("boom")


def test_a_failure_in_the_child_is_raised_in_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "access.log"
    write_log(path, 2000)
    monkeypatch.setattr(reading, "_parent_busy", lambda queue: True)  # always prepare in the child
    with pytest.raises(RuntimeError, match=r"access\.log.*ValueError: boom"):
        list(decoded_batches(path, decoder_for(path), 0, 200, parallel=True, prepare=fail))


def test_one_process_for_a_small_file_or_one_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "access.log"
    write_log(path, 100)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert not reading.use_child_process(path, 0)  # small
    monkeypatch.setattr(reading, "PARALLEL_MIN_BYTES", 1000)
    assert reading.use_child_process(path, 0) or reading.threading.active_count() > 1
    assert not reading.use_child_process(path, path.stat().st_size - 10)  # little left after the offset
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not reading.use_child_process(path, 0)


ORPHAN = """
import os, signal, sys
from pathlib import Path
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.reading import decoded_batches
import multiprocessing
path, pids = Path(sys.argv[1]), Path(sys.argv[2])
decoder = LineDecoder(get_parser("nginx"), Origin(str(path), str(path), "binhdinh"))
for batch in decoded_batches(path, decoder, 0, 50, parallel=True):
    pids.write_text(" ".join(str(child.pid) for child in multiprocessing.active_children()))
    os.kill(os.getpid(), signal.SIGKILL)  # killed while the child has the rest of the file to hand on
"""


def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    write_log(path, 5000)
    pids = tmp_path / "children"
    subprocess.run([sys.executable, "-c", ORPHAN, str(path), str(pids)], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    [child] = [int(pid) for pid in pids.read_text().split()]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the decoding process outlived its parent")
