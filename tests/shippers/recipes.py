"""The configurations of docs/shipping/, as a sysadmin copies them, with only the addresses and paths a test
must change: the tests run the documented text, so the documentation cannot drift from what works."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT

RECIPES = ROOT / "docs" / "shipping"
DOC_HOST, DOC_PORT = "soc.example.gov.vn", "5514"
DOC_NGINX_LOG, DOC_AUTH_LOG = "/var/log/nginx/access.log", "/var/log/auth.log"


def recipe(name: str, *replacements: tuple[str, str]) -> str:
    """The text of ``docs/shipping/<name>`` with each ``old=new`` replacement made; a replacement that finds
    nothing fails, so a recipe edited out of shape fails its test instead of being silently bypassed."""
    text = (RECIPES / name).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} is no longer in docs/shipping/{name}"
        text = text.replace(old, new)
    return text


def doc_includes(name: str) -> bool:
    """docs/shipping.md shows the recipe it names (included verbatim between its fences)."""
    doc = (ROOT / "docs" / "shipping.md").read_text(encoding="utf-8")
    body = (RECIPES / name).read_text(encoding="utf-8").strip()
    return body in doc


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
