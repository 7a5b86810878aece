"""Rotated copies of a log file (``access.log.1``, ``access.log.2.gz``, ``access.log-20261122.gz``): finding
them, ordering them, naming the live stream they belong to, and recognising a file by its first bytes."""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import re
from pathlib import Path

HEAD_BYTES = 256
ROTATED_SUFFIX = re.compile(r"[.-](\d{1,4}|\d{8}(?:\d{2})?|\d{4}-\d\d-\d\d(?:-\d+)?)(\.gz)?")


def is_compressed(path: str | Path) -> bool:
    return str(path).endswith(".gz")


def live_name(path: str | Path) -> Path:
    """The live file a rotated copy came from: ``/var/log/nginx/access.log.2.gz`` → ``…/access.log``. Event ids
    are made from this name, so a line read from the copy gets the id it got (or will get) when tailed."""
    path = Path(path)
    for index in range(len(path.name) - 1, 0, -1):
        if path.name[index] in ".-" and ROTATED_SUFFIX.fullmatch(path.name[index:]):
            return path.with_name(path.name[:index])
    if is_compressed(path):
        return path.with_name(path.name[:-3])
    return path


def rotated_siblings(live: str | Path) -> list[Path]:
    """The rotated copies of ``live`` next to it, oldest first."""
    live = Path(live)
    found = []
    for name in glob.glob(glob.escape(str(live)) + "[.-]*"):
        candidate = Path(name)
        match = ROTATED_SUFFIX.fullmatch(candidate.name[len(live.name):])
        if match is None or not candidate.is_file():
            continue
        number = int(match.group(1)) if match.group(1).isdigit() and len(match.group(1)) <= 4 else 0
        found.append((candidate.stat().st_mtime, -number, candidate.name, candidate))
    return [item[-1] for item in sorted(found)]


def read_head(path: str | Path, size: int = HEAD_BYTES) -> bytes:
    try:
        if is_compressed(path):
            with gzip.open(path, "rb") as compressed:
                return compressed.read(size)
        with open(path, "rb") as plain:
            return plain.read(size)
    except (OSError, EOFError):
        return b""


def head_digest(head: bytes) -> str:
    return hashlib.blake2b(head, digest_size=16).hexdigest()


def matches_head(path: str | Path, length: int, digest: str) -> bool:
    head = read_head(path, length)
    return len(head) == length and head_digest(head) == digest


def find_by_head(candidates: list[Path], length: int, digest: str) -> Path | None:
    for candidate in reversed(candidates):  # the newest copy is the likeliest
        if length and matches_head(candidate, length, digest):
            return candidate
    return None


def file_size(path: str | Path) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None
