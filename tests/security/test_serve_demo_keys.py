"""``canhgac serve`` never silently serves the example's public demo keys: without a configuration, or with
one whose API keys are the demo keys, it refuses (exit 2, the reason and a hint) unless ``--demo``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from canhgac.core.config import EXAMPLE_CONFIG

from canhgac.cli import main


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def serve(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    # --duration: should the refusal be missing, the server stops by itself and the test fails, not hangs.
    code = main(["serve", "--port", free_port(), "--duration", "0.5", *extra])
    out, err = capsys.readouterr()
    return code, out + err


def test_serve_without_a_configuration_refuses_and_says_why(home: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANHGAC_LANG", "vi")
    code, output = serve(capsys)
    assert code == 2
    assert "Không tìm thấy cấu hình" in output and "khóa API thử nghiệm" in output
    assert "canhgac config example > canhgac.yaml" in output and "--demo" in output
    assert "Canh Gác phục vụ tại" not in output


def test_the_refusal_is_in_english_on_request(home: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANHGAC_LANG", "en")
    code, output = serve(capsys)
    assert code == 2 and "No configuration found" in output and "canhgac config example > canhgac.yaml" in output


def test_a_configuration_with_the_demo_keys_is_refused(home: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    copied = tmp_path / "canhgac.yaml"
    copied.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    code, output = serve(capsys, "--config", str(copied))
    assert code == 2 and "demo-soc-analyst" in output and "--demo" in output
    assert "Canh Gác phục vụ tại" not in output


def test_own_keys_serve_and_demo_keys_serve_only_with_demo(home: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["api_keys"] = [{"name": "soc", "role": "soc_analyst", "sha256": "ab" * 32}]
    config["detection"] = {"builtin_rules": False, "anomaly": {"enabled": False}}
    own = tmp_path / "own.yaml"
    own.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    code, output = serve(capsys, "--config", str(own))
    assert code == 0 and "Canh Gác phục vụ tại" in output
    code, output = serve(capsys, "--demo")
    assert code == 0 and "Canh Gác phục vụ tại" in output and "thử nghiệm" in output
