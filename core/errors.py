"""One error root; each subclass can say where the problem is."""

from __future__ import annotations


class CanhGacError(Exception):
    """Base of every error Canh Gác raises on purpose."""


class LocatedError(CanhGacError):
    """An error in a file, with the line (1-based) and an optional field path."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        subject = f" [{self.field}]" if self.field else ""
        return f"{where}:{subject} {self.message}"


class ConfigError(LocatedError):
    """The configuration file is invalid."""


class ConfigErrors(CanhGacError):
    """Several configuration problems found in one pass."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class RuleError(LocatedError):
    """A detection rule could not be loaded or compiled."""


class ParseError(CanhGacError):
    """A log line could not be turned into an event; ``reason`` is shown to operators."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnknownFormat(CanhGacError, ValueError):
    """A log format name that no parser handles."""


class NotFound(CanhGacError):
    """The requested object does not exist (or is outside the caller's scope)."""


class VersionConflict(CanhGacError):
    """An update was based on a stale version of the object."""

    def __init__(self, object_id: str, expected: str, actual: str | None) -> None:
        self.object_id = object_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"{object_id}: expected version {expected}, stored version is {actual}")


class StoreUnavailable(CanhGacError):
    """The store cannot be reached; callers may retry later."""
