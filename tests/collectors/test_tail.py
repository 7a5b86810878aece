"""File tails: checkpoints after commit, both rotation styles while a writer is writing, rotated and
compressed copies read under the live file's name, parser state and records across restarts."""

from __future__ import annotations

import gzip
import os
import shutil
import threading
import time
from pathlib import Path

from canhgac.collectors.delivery import Delivery
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.tail import FileSource, FileTailer
from canhgac.storage.base import EventQuery, Store

from tests.collectors import fixtures as fx
from tests.collectors.support import access_line


def tailer(store: Store, path: Path, fmt: str = "nginx", *, backfill: bool = False,
           batch_lines: int = 500) -> FileTailer:
    origin = Origin(str(path), str(path), "binhdinh")
    source = FileSource(LineDecoder(get_parser(fmt), origin), batch_lines=batch_lines, backfill=backfill)
    delivery = Delivery(lambda events, letters: (store.put_events(events), store.put_dead_letters(letters)), store)
    return FileTailer([source], store, delivery, poll_seconds=0.01)


def drain(tail: FileTailer, rounds: int = 200) -> None:
    idle = 0
    while idle < 3 and rounds:
        idle = 0 if tail.poll_all() else idle + 1
        rounds -= 1


def paths_stored(store: Store) -> list[str]:
    return sorted(e["url.path"] for e in store.search_events(EventQuery(limit=100_000)))


def expected(count: int) -> list[str]:
    return sorted(f"/ho-so/{n}" for n in range(count))


def test_checkpoint_is_written_only_after_the_store_commits(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(access_line(n) for n in range(3)))
    tail = tailer(sqlite_store, path)
    source = tail.sources[0]
    source.open(None)
    batch = source.next_batch()
    assert batch is not None and sqlite_store.get_state(source.checkpoint_key) is None
    tail.delivery.submit(batch)
    assert sqlite_store.get_state(source.checkpoint_key)["offset"] == path.stat().st_size


def test_tail_resumes_from_checkpoint_and_follows_rotation(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(access_line(n) for n in range(3)))
    drain(tailer(sqlite_store, path))
    with path.open("a") as out:
        out.write(access_line(3))
    tail = tailer(sqlite_store, path)  # a restart: resumes at the checkpoint
    drain(tail)
    assert sqlite_store.count_events(EventQuery()) == 4
    os.rename(path, tmp_path / "access.log.1")  # rename-and-create, with a late write to the old file
    with (tmp_path / "access.log.1").open("a") as out:
        out.write(access_line(4))
    path.write_text(access_line(5))
    drain(tail)
    assert paths_stored(sqlite_store) == expected(6)


def _writer(path: Path, count: int, rotate_every: int, style: str, lock: threading.Lock) -> None:
    out = path.open("a")
    rotation = 0
    for n in range(count):
        with lock:
            out.write(access_line(n))
            out.flush()
            if n and n % rotate_every == 0:
                rotation += 1
                if style == "rename":
                    os.rename(path, path.with_name(f"{path.name}.{rotation}"))
                    out.write(access_line(n + count))  # a late write lands in the renamed file…
                    out.flush()
                    out.close()
                    out = path.open("a")
                else:  # copytruncate, then compress the copy as logrotate does
                    copy = path.with_name(f"{path.name}.{rotation}")
                    shutil.copyfile(path, copy)
                    out.truncate(0)
                    with copy.open("rb") as plain, gzip.open(f"{copy}.gz", "wb") as packed:
                        shutil.copyfileobj(plain, packed)
                    copy.unlink()
        if n % 97 == 0:
            time.sleep(0.001)
    out.close()


def _rotation_while_writing(store: Store, tmp_path: Path, style: str) -> None:
    path = tmp_path / "access.log"
    path.touch()
    count, lock = 6000, threading.Lock()
    tail = tailer(store, path, batch_lines=300)
    writer = threading.Thread(target=_writer, args=(path, count, 1100, style, lock))
    writer.start()
    while writer.is_alive():
        tail.poll_all()
        time.sleep(0.002)
    writer.join()
    drain(tail)
    late = {f"/ho-so/{n + count}" for n in range(1100, count, 1100)} if style == "rename" else set()
    stored = paths_stored(store)
    assert len(stored) == len(set(stored))
    assert set(stored) == set(expected(count)) | late


def test_rename_rotation_while_writing_loses_and_repeats_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    _rotation_while_writing(sqlite_store, tmp_path, "rename")


def test_copytruncate_rotation_while_writing_loses_and_repeats_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    _rotation_while_writing(sqlite_store, tmp_path, "copytruncate")


def test_copytruncate_refilled_past_the_offset_is_noticed(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(access_line(n) for n in range(2)))
    tail = tailer(sqlite_store, path)
    drain(tail)
    shutil.copyfile(path, tmp_path / "access.log.1")
    with path.open("a") as out:  # a line the tail has not read yet, then the truncation and a big refill
        out.write(access_line(2))
    shutil.copyfile(path, tmp_path / "access.log.1")
    with path.open("r+") as out:
        out.truncate(0)
    path.write_text("".join(access_line(n) for n in range(3, 12)))
    drain(tail)
    assert paths_stored(sqlite_store) == expected(12)


def test_rotated_and_compressed_copies_are_backfilled_with_live_ids(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    lines = [access_line(n) for n in range(9)]
    old, middle, live = "".join(lines[:3]), "".join(lines[3:6]), "".join(lines[6:])
    with gzip.open(tmp_path / "access.log.2.gz", "wt") as out:
        out.write(old)
    (tmp_path / "access.log.1").write_text(middle)
    os.utime(tmp_path / "access.log.2.gz", (1, 1))
    os.utime(tmp_path / "access.log.1", (2, 2))
    path.write_text(live)
    drain(tailer(sqlite_store, path, backfill=True))
    assert paths_stored(sqlite_store) == expected(9)
    events = sqlite_store.search_events(EventQuery(limit=100))
    assert {e["log.file.path"] for e in events} == {str(path)}
    # The tail that read access.log when it was live gave the same ids as the backfill of its copies.
    from canhgac.core.model import event_id

    first = next(e for e in events if e["url.path"] == "/ho-so/0")
    assert first["event.id"] == event_id(str(path), 0, lines[0].rstrip("\n").encode())


def test_a_restart_after_rotation_finishes_the_old_file_first(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("".join(access_line(n) for n in range(3)))
    drain(tailer(sqlite_store, path))
    with path.open("a") as out:  # written, then rotated and compressed while Canh Gác was stopped
        out.write(access_line(3))
    os.rename(path, tmp_path / "access.log.1")
    with (tmp_path / "access.log.1").open("rb") as plain, gzip.open(tmp_path / "access.log.1.gz", "wb") as out:
        shutil.copyfileobj(plain, out)
    (tmp_path / "access.log.1").unlink()
    path.write_text(access_line(4))
    drain(tailer(sqlite_store, path))
    assert paths_stored(sqlite_store) == expected(5)


def test_iis_columns_survive_a_restart_in_the_checkpoint(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "u_ex261122.log"
    path.write_text("\n".join([*fx.IIS_HEADER, fx.IIS_CUSTOM_FIELDS, fx.IIS_CUSTOM_LINE]) + "\n")
    drain(tailer(sqlite_store, path, "iis"))
    with path.open("a") as out:
        out.write(fx.IIS_CUSTOM_LINE.replace("08:05:00.123", "08:06:00.000") + "\n")
    drain(tailer(sqlite_store, path, "iis"))
    events = sqlite_store.search_events(EventQuery(limit=10))
    assert len(events) == 2 and all(e["url.domain"] == "dichvucong.binhdinh.gov.vn" for e in events)
    assert sqlite_store.search_dead_letters() == []


def test_a_modsecurity_record_split_by_a_restart_is_read_whole(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "modsec_audit.log"
    head, tail_part = fx.MODSEC_NATIVE.split("--a1b2c3d4-H--")
    path.write_text(head)
    drain(tailer(sqlite_store, path, "modsecurity"))
    assert sqlite_store.count_events(EventQuery()) == 0
    assert sqlite_store.get_state(f"file:{path}")["offset"] == 0  # never past the start of an open record
    with path.open("a") as out:
        out.write("--a1b2c3d4-H--" + tail_part)
    drain(tailer(sqlite_store, path, "modsecurity"))
    [event] = sqlite_store.search_events(EventQuery(limit=10))
    assert event["rule.id"] == ["942100"] and event["log.offset"] == 0 and "tags" not in event


def test_tailer_thread_stops_when_asked(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(access_line(1))
    tail = tailer(sqlite_store, path)
    stop = threading.Event()
    thread = threading.Thread(target=tail.run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
