"""The web page (plain HTML, CSS and JavaScript in ``web/``), served by ``api.create_app``."""

from pathlib import Path

WEB_DIR: Path = Path(__file__).resolve().parent / "web"
