"""Reading lines with their byte offsets (plain and gzip); decoding flags; stable ids."""

from __future__ import annotations

from pathlib import Path

from canhgac.collectors.file import FileReader
from canhgac.collectors.lines import MAX_LINE_BYTES, LineDecoder, Origin
from canhgac.collectors.parsers import get_parser

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


def test_gzip_files_are_read_with_uncompressed_offsets(tmp_path: Path) -> None:
    import gzip

    text = "".join(LINE.format(n=n) for n in range(3)).encode()
    (tmp_path / "a.log").write_bytes(text)
    with gzip.open(tmp_path / "a.log.1.gz", "wb") as out:
        out.write(text)
    plain = FileReader(tmp_path / "a.log").read(10, final=True)
    packed = FileReader(tmp_path / "a.log.1.gz").read(10, final=True)
    assert plain == packed
    resumed = FileReader(tmp_path / "a.log.1.gz", plain[1].offset).read(10, final=True)
    assert resumed == plain[1:]


def test_decoder_event_ids_match_the_model_function(tmp_path: Path) -> None:
    from canhgac.core.model import event_id

    path = tmp_path / "a.log"
    path.write_text(LINE.format(n=1))
    events, _ = LineDecoder(get_parser("nginx"), Origin(str(path), str(path), "binhdinh")).decode(
        FileReader(path).read(10))
    assert events[0]["event.id"] == event_id(str(path), 0, LINE.format(n=1).encode().rstrip(b"\n"))
