"""Value matchers: compiled tests of one event field's value, built once per rule and run per event.

Every matcher answers ``test(value)`` for the raw field value: ``None`` when the field is absent, a
list for ECS list fields (any element may match) or a scalar. String matching is case-insensitive
unless the rule says ``cased``; numbers and strings compare across types ("404" equals 404).
"""

from __future__ import annotations

import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address
from zoneinfo import ZoneInfo

from canhgac.detectors.sigma.linear import LinearPattern, compile_linear

Network = IPv4Network | IPv6Network


def as_text(value: object) -> str:
    """The text a string pattern sees for a scalar value (booleans as ``true`` / ``false``)."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_number(value: object) -> int | float | None:
    """The numeric value of an int, float or numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


class ValueMatcher(ABC):
    """A test of one field value; lists match if any element does, an absent field never matches."""

    def test(self, value: object) -> bool:
        if value is None:
            return False
        if type(value) is list:
            for item in value:  # noqa: SIM110 - a loop avoids a generator per evaluation
                if item is not None and self.test_scalar(item):
                    return True
            return False
        return self.test_scalar(value)

    @abstractmethod
    def test_scalar(self, value: object) -> bool:
        """Whether one non-null scalar value matches."""

    def merge(self, other: ValueMatcher) -> ValueMatcher | None:
        """One matcher equivalent to ``self OR other`` on the same field, or None if they do not combine."""
        return None


class StringPatterns(ValueMatcher):
    """Sigma strings with ``*`` / ``?`` wildcards, sorted by shape so most need no regex.

    Patterns are stored lower-cased (unless ``cased``) and the value is lower-cased once per test.
    """

    def __init__(self, *, cased: bool, exact: Iterable[str] = (), prefixes: Iterable[str] = (),
                 suffixes: Iterable[str] = (), infixes: Iterable[str] = (), globs: Iterable[str] = (),
                 glob_literals: Iterable[str] = (), any_value: bool = False) -> None:
        self.cased = cased
        self.exact = frozenset(exact)
        self.prefixes = tuple(dict.fromkeys(prefixes))
        self.suffixes = tuple(dict.fromkeys(suffixes))
        self.infixes = tuple(dict.fromkeys(infixes))
        self.globs = tuple(dict.fromkeys(globs))
        #: the longest literal run of each glob (lower-cased unless cased): what the prefilter looks for
        self.glob_literals = tuple(glob_literals)
        self.any_value = any_value
        self.regexes = tuple(compile_linear(glob, re.DOTALL) for glob in self.globs)

    def test_scalar(self, value: object) -> bool:
        if self.any_value:
            return True
        text = value if type(value) is str else as_text(value)
        if not self.cased:
            text = text.lower()
        if text in self.exact:
            return True
        if self.prefixes and text.startswith(self.prefixes):
            return True
        if self.suffixes and text.endswith(self.suffixes):
            return True
        for infix in self.infixes:
            if infix in text:
                return True
        return any(regex.fullmatch(text) for regex in self.regexes)

    def merge(self, other: ValueMatcher) -> ValueMatcher | None:
        if not isinstance(other, StringPatterns) or other.cased != self.cased:
            return None
        return StringPatterns(cased=self.cased, exact=self.exact | other.exact,
                              prefixes=self.prefixes + other.prefixes, suffixes=self.suffixes + other.suffixes,
                              infixes=self.infixes + other.infixes, globs=self.globs + other.globs,
                              glob_literals=self.glob_literals + other.glob_literals,
                              any_value=self.any_value or other.any_value)

    def __repr__(self) -> str:
        shapes = {"exact": sorted(self.exact), "prefixes": self.prefixes, "suffixes": self.suffixes,
                  "infixes": self.infixes, "globs": self.globs, "any": self.any_value}
        return f"StringPatterns(cased={self.cased}, " + ", ".join(f"{k}={v}" for k, v in shapes.items() if v) + ")"


class RegexMatcher(ValueMatcher):
    """A regular expression searched anywhere in the value (anchor it with ``^`` / ``$`` to match the whole)."""

    def __init__(self, pattern: LinearPattern) -> None:
        self.pattern = pattern

    def test_scalar(self, value: object) -> bool:
        return self.pattern.search(value if type(value) is str else as_text(value))

    def __repr__(self) -> str:
        return f"RegexMatcher({self.pattern.source!r}, flags={self.pattern.flags}, engine={self.pattern.engine})"


class NumberMatcher(ValueMatcher):
    """Numeric equality; numeric strings in the event compare by value."""

    def __init__(self, number: int | float) -> None:
        self.number = number

    def test_scalar(self, value: object) -> bool:
        found = as_number(value)
        return found is not None and found == self.number

    def __repr__(self) -> str:
        return f"NumberMatcher({self.number!r})"


COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge, "neq": operator.ne,
}


class CompareMatcher(ValueMatcher):
    """``lt`` / ``lte`` / ``gt`` / ``gte``: the event value is a number (or numeric string) compared to the rule's."""

    def __init__(self, op: str, number: int | float) -> None:
        self.op = op
        self.compare = COMPARISONS[op]
        self.number = number

    def test_scalar(self, value: object) -> bool:
        found = as_number(value)
        return found is not None and self.compare(found, self.number)

    def __repr__(self) -> str:
        return f"CompareMatcher({self.op} {self.number!r})"


class BoolMatcher(ValueMatcher):
    def __init__(self, expected: bool) -> None:
        self.expected = expected
        self.text = "true" if expected else "false"

    def test_scalar(self, value: object) -> bool:
        if isinstance(value, bool):
            return value is self.expected
        return isinstance(value, str) and value.lower() == self.text

    def __repr__(self) -> str:
        return f"BoolMatcher({self.expected})"


class NullMatcher(ValueMatcher):
    """``field: null``: the field is absent or None."""

    def test(self, value: object) -> bool:
        return value is None

    def test_scalar(self, value: object) -> bool:
        return False

    def __repr__(self) -> str:
        return "NullMatcher()"


class ExistsMatcher(ValueMatcher):
    """``field|exists: true/false``: whether the field is present with a non-null value."""

    def __init__(self, expected: bool) -> None:
        self.expected = expected

    def test(self, value: object) -> bool:
        return (value is not None) == self.expected

    def test_scalar(self, value: object) -> bool:
        return self.expected

    def __repr__(self) -> str:
        return f"ExistsMatcher({self.expected})"


class CidrMatcher(ValueMatcher):
    """``cidr``: the value is an IP address inside one of the networks."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)

    def test_scalar(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        try:
            address = ip_address(value.strip())
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:a.b.c.d from dual-stack sockets
            address = address.ipv4_mapped
        return any(network.version == address.version and address in network for network in self.networks)

    def merge(self, other: ValueMatcher) -> ValueMatcher | None:
        if not isinstance(other, CidrMatcher):
            return None
        return CidrMatcher(self.networks + other.networks)

    def __repr__(self) -> str:
        return f"CidrMatcher({[str(n) for n in self.networks]})"


#: The zone in which time-part modifiers (``|hour`` ...) read a timestamp: office hours are local hours.
TIME_PART_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TIME_PARTS: dict[str, Callable[[datetime], int]] = {
    "minute": lambda moment: moment.minute,
    "hour": lambda moment: moment.hour,
    "day": lambda moment: moment.day,
    "week": lambda moment: moment.isocalendar().week,
    "month": lambda moment: moment.month,
    "year": lambda moment: moment.year,
}


def as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class TimePartMatcher(ValueMatcher):
    """``|minute`` ... ``|year``: one part of a timestamp, read in ``TIME_PART_ZONE``, equals one of the numbers."""

    def __init__(self, part: str, numbers: Iterable[int]) -> None:
        self.part = part
        self.extract = TIME_PARTS[part]
        self.numbers = frozenset(numbers)

    def test_scalar(self, value: object) -> bool:
        moment = as_datetime(value)
        if moment is None:
            return False
        if moment.tzinfo is not None:
            moment = moment.astimezone(TIME_PART_ZONE)
        return self.extract(moment) in self.numbers

    def merge(self, other: ValueMatcher) -> ValueMatcher | None:
        if not isinstance(other, TimePartMatcher) or other.part != self.part:
            return None
        return TimePartMatcher(self.part, self.numbers | other.numbers)

    def __repr__(self) -> str:
        return f"TimePartMatcher({self.part} in {sorted(self.numbers)})"
