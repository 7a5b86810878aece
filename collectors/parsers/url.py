"""URL normalisation that detection can rely on: decode repeatedly until stable, ``+`` as space in queries."""

from __future__ import annotations

from urllib.parse import unquote, unquote_plus

MAX_ROUNDS = 4


def decode_path(text: str) -> str:
    for _ in range(MAX_ROUNDS):
        if "%" not in text:
            return text
        decoded = unquote(text, errors="replace")
        if decoded == text:
            return text
        text = decoded
    return text


def decode_query(text: str) -> str:
    # The first round also turns "+" into a space; later rounds must not, or a decoded "%2B" would vanish.
    if "%" not in text and "+" not in text:
        return text
    return decode_path(unquote_plus(text, errors="replace"))
