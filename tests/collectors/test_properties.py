"""Property tests: every parser, fed arbitrary bytes and mutated real lines, raises nothing but ParseError,
and through the decoder every non-blank input becomes exactly one event or one dead letter."""

from __future__ import annotations

import pytest
from canhgac.collectors.lines import LineDecoder, Origin
from canhgac.collectors.parsers import get_parser
from canhgac.collectors.raw import RawLine
from canhgac.core.errors import ParseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.collectors import fixtures as fx

FORMATS = {**fx.VALID, "iis": fx.IIS_LINES, "modsecurity": [fx.MODSEC_V3_JSON, fx.MODSEC_V2_JSON, fx.MODSEC_NATIVE,
                                                               fx.MODSEC_V3_NATIVE]}
CHECKS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, lines: list[str]) -> bytes:
    """A real line with a few bytes replaced, inserted, deleted, or cut short."""
    data = bytearray(draw(st.sampled_from(lines)).encode())
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["replace", "insert", "delete", "cut", "dup"]))
        if action == "replace" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete" and data:
            del data[position]
        elif action == "cut":
            data = data[:position]
        elif action == "dup":
            data[position:position] = data[position:position + 12]
    return bytes(data)


def inputs(fmt: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=300), mutated(FORMATS[fmt]),
                     st.text(max_size=200).map(lambda t: t.encode()))


def _check_parser(fmt: str, data: bytes) -> None:
    parser = get_parser(fmt)
    text = data.decode(errors="replace")
    try:
        fields = parser.parse(text)
    except ParseError as exc:
        assert exc.reason
        return
    if fields is not None:
        assert isinstance(fields["@timestamp"], str) and len(fields["@timestamp"]) == 24


def _check_decoder(fmt: str, data: bytes) -> None:
    decoder = LineDecoder(get_parser(fmt), Origin("/var/log/x.log", "/var/log/x.log", "binhdinh"))
    lines = [RawLine(i * 1000, part) for i, part in enumerate(data.split(b"\n"))]
    events, letters = decoder.decode(lines, final=True)
    stats = decoder.stats
    assert stats.events + stats.dead_letters + stats.blank + stats.directives == stats.lines
    assert len({e["event.id"] for e in events} | {d.id for d in letters}) == len(events) + len(letters)
    for event in events:
        assert event["@timestamp"].endswith("Z") and event["organization.id"] == "binhdinh"
        __import__("datetime").datetime.fromisoformat(event["@timestamp"])  # a time every store accepts


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_parsers_raise_only_parse_errors(fmt: str) -> None:
    @CHECKS
    @given(inputs(fmt))
    def check(data: bytes) -> None:
        _check_parser(fmt, data)

    check()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_input_becomes_an_event_or_a_dead_letter(fmt: str) -> None:
    @CHECKS
    @given(st.lists(inputs(fmt), min_size=1, max_size=5).map(b"\n".join))
    def check(data: bytes) -> None:
        _check_decoder(fmt, data)

    check()


def test_the_real_lines_all_become_events() -> None:
    for fmt, lines in fx.VALID.items():
        decoder = LineDecoder(get_parser(fmt), Origin("/x", "/x", "binhdinh"))
        events, letters = decoder.decode([RawLine(i, line.encode()) for i, line in enumerate(lines)])
        assert not letters, (fmt, [d.reason for d in letters])
        assert len(events) == len(lines)
