"""Small validated conversions shared by parsers."""

from __future__ import annotations

import ipaddress
import re

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_ip_cache: dict[str, bool] = {}


def is_ip(text: str) -> bool:
    """True for an IPv4/IPv6 address. Cached: client addresses repeat a lot, and a non-IP in an ``ip``
    field would make Elasticsearch refuse the whole document."""
    known = _ip_cache.get(text)
    if known is None:
        if IPV4.fullmatch(text):
            known = True
        else:
            try:
                ipaddress.ip_address(text)
                known = True
            except ValueError:
                known = False
        if len(_ip_cache) > 65536:
            _ip_cache.clear()
        _ip_cache[text] = known
    return known


def unescape_nginx(text: str) -> str:
    r"""nginx writes ``"``, ``\`` and bytes outside printable ASCII as ``\xHH``; give back the text."""
    if "\\x" not in text:
        return text
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 3 < n and text[i + 1] == "x":
            try:
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            except ValueError:
                pass
        out += char.encode()
        i += 1
    return out.decode("utf-8", errors="replace")
