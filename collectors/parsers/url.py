"""URL normalisation that detection can rely on: decode repeatedly until stable, ``+`` as space in queries.

Portal traffic repeats the same paths and searches all day, so decoded values are cached.
"""

from __future__ import annotations

import re

MAX_ROUNDS = 4
_CACHE_LIMIT = 16384
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_path_cache: dict[str, str] = {}
_query_cache: dict[str, str] = {}


def _bytes_of(match: re.Match[str]) -> str:
    run = match.group()
    return bytes.fromhex(run.replace("%", "")).decode("utf-8", errors="replace")


def _unquote(text: str) -> str:
    return _ESCAPES.sub(_bytes_of, text)


def _until_stable(text: str) -> str:
    for _ in range(MAX_ROUNDS):
        if "%" not in text:
            return text
        decoded = _unquote(text)
        if decoded == text:
            return text
        text = decoded
    return text


def decode_path(text: str) -> str:
    if "%" not in text:
        return text
    cached = _path_cache.get(text)
    if cached is None:
        cached = _until_stable(text)
        if len(_path_cache) >= _CACHE_LIMIT:
            _path_cache.clear()
        _path_cache[text] = cached
    return cached


def decode_query(text: str) -> str:
    # The first round also turns "+" into a space; later rounds must not, or a decoded "%2B" would vanish.
    if "%" not in text and "+" not in text:
        return text
    cached = _query_cache.get(text)
    if cached is None:
        cached = _until_stable(_unquote(text.replace("+", " ")))
        if len(_query_cache) >= _CACHE_LIMIT:
            _query_cache.clear()
        _query_cache[text] = cached
    return cached


def split_target(target: str, fields: dict[str, object]) -> None:
    """A request target (``/a/b?c=d`` or an absolute ``http://host/a``) → ``url.*`` fields."""
    fields["url.original"] = target
    path, _, query = target.partition("?")
    if path.startswith(("http://", "https://")):  # absolute form, as proxies and scanners send
        scheme_end = path.index("//") + 2
        host_end = path.find("/", scheme_end)
        fields["url.domain"] = path[scheme_end:host_end if host_end > 0 else None]
        path = path[host_end:] if host_end > 0 else "/"
    fields["url.path"] = decode_path(path)
    if query:
        fields["url.query"] = decode_query(query)
