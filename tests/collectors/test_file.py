"""Reading lines with their byte offsets; decoding flags; tailing with checkpoints and rotation."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from collectors.file import FileReader
from collectors.lines import MAX_LINE_BYTES, LineDecoder, Origin
from collectors.parsers import get_parser
from collectors.tail import FileTailer, TailTarget
from storage.base import EventQuery, Store

LINE = '100.64.0.{n} - - [22/Nov/2026:15:04:05 +0700] "GET /ho-so/{n} HTTP/1.1" 200 10 "-" "-"\n'


def test_reader_reports_offsets_and_waits_for_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntwo\n\nthree")
    reader = FileReader(path)
    lines = reader.read(10)
    assert [(line.offset, line.data) for line in lines] == [(0, b"one\r"), (5, b"two"), (9, b"")]
    assert reader.offset == 10
    with path.open("ab") as out:
        out.write(b" and more\n")
    assert [(line.offset, line.data) for line in reader.read(10)] == [(10, b"three and more")]
    assert reader.read(10, final=True) == []


def test_decoder_flags_bad_utf8_and_long_lines_and_dead_letters(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    good = LINE.format(n=1).encode()
    bad_utf8 = good.replace(b"/ho-so/1", b"/ho-so/\xff\xfe")
    long = good.replace(b"/ho-so/1", b"/ho-so/" + b"a" * (MAX_LINE_BYTES + 10))
    path.write_bytes(good + bad_utf8 + b"not a log line\n" + long)
    decoder = LineDecoder(get_parser("nginx"), Origin(str(path), str(path), "binhdinh", "dvc-binhdinh"))
    events, letters = decoder.decode(FileReader(path).read(100, final=True))
    assert [e["log.offset"] for e in events] == [0, len(good)]
    assert events[0]["service.id"] == "dvc-binhdinh" and events[0]["organization.id"] == "binhdinh"
    assert events[1]["tags"] == ["invalid_utf8"] and "\ufffd" in events[1]["url.path"]
    garbage_at = len(good) + len(bad_utf8)
    [letter] = [d for d in letters if d.offset == garbage_at]
    assert letter.path == str(path) and letter.reason.startswith("not a nginx")
    [truncated] = [d for d in letters if d.offset > garbage_at]
    assert "truncated" in truncated.reason and len(truncated.raw) == MAX_LINE_BYTES
    assert decoder.stats.dead_letters == 2 and decoder.stats.events == 2


def test_event_ids_are_stable_for_the_same_position(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(LINE.format(n=1) + LINE.format(n=1))
    origin = Origin(str(path), str(path), "binhdinh")
    first, _ = LineDecoder(get_parser("nginx"), origin).decode(FileReader(path).read(10))
    again, _ = LineDecoder(get_parser("nginx"), origin).decode(FileReader(path).read(10))
    assert [e["event.id"] for e in first] == [e["event.id"] for e in again]
    assert first[0]["event.id"] != first[1]["event.id"]  # same text, other offset


def _tail(store: Store, path: Path, rounds: int = 3) -> FileTailer:
    target = TailTarget(LineDecoder(get_parser("nginx"), Origin(str(path), str(path), "binhdinh")))
    tailer = FileTailer([target], store, lambda events, letters: store.put_events(events))
    for _ in range(rounds):
        tailer.poll(target)
    return tailer


def test_tail_resumes_from_checkpoint_and_follows_rotation(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(LINE.format(n=n) for n in range(3)))
    _tail(sqlite_store, path)
    assert sqlite_store.count_events(EventQuery()) == 3
    with path.open("a") as out:
        out.write(LINE.format(n=3))
    tailer = _tail(sqlite_store, path)  # a restart: resumes at the checkpoint
    assert sqlite_store.count_events(EventQuery()) == 4
    target = tailer.targets[0]
    os.rename(path, tmp_path / "access.log.1")  # rename-and-create rotation, with a late write to the old file
    with (tmp_path / "access.log.1").open("a") as out:
        out.write(LINE.format(n=4))
    path.write_text(LINE.format(n=5))
    for _ in range(4):
        tailer.poll(target)
    offsets = sorted(e["url.path"] for e in sqlite_store.search_events(EventQuery(limit=100)))
    assert offsets == [f"/ho-so/{n}" for n in range(6)]


def test_tail_rereads_a_truncated_file(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(LINE.format(n=n) for n in range(3)))
    tailer = _tail(sqlite_store, path)
    with path.open("r+") as out:  # copytruncate
        out.truncate(0)
    with path.open("a") as out:
        out.write(LINE.format(n=7))
    for _ in range(3):
        tailer.poll(tailer.targets[0])
    assert sqlite_store.count_events(EventQuery()) == 4


def test_tailer_thread_stops_when_asked(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(LINE.format(n=1))
    target = TailTarget(LineDecoder(get_parser("nginx"), Origin(str(path), str(path), "binhdinh")))
    tailer = FileTailer([target], sqlite_store, lambda e, d: sqlite_store.put_events(e), poll_seconds=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=tailer.run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
