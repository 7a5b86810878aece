"""End-to-end latency: a line appended to a tailed log file until its alert is readable through the API.

    python bench/latency.py [--appends 200]

Runs the real ``canhgac serve`` (file tail → parse → store → detect → incidents → API) on 127.0.0.1 with
the embedded store in a temporary home, appends one attack line at a time to the tailed file and polls
``GET /api/v1/alerts`` until the alert that points at it appears. Ends with
``RESULT appends=… p50_ms=… p99_ms=… max_ms=… within_1s=…``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

KEY = "bench-latency-key"
CONFIG = """agencies:
  - {{id: binhdinh, code: BDH, level: province, name_vi: Bình Định, name_en: Binh Dinh}}
systems:
  - id: dvc-binhdinh
    name: Cổng dịch vụ công
    agency: binhdinh
    kind: public_service_portal
    security_level: 3
    log_sources:
      - {{type: file, format: nginx, paths: ["{log}"]}}
api_keys:
  - {{name: bench, role: soc_analyst, sha256: {digest}}}
detection:
  anomaly: {{enabled: false}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_alerts(port: int) -> list[dict]:  # type: ignore[type-arg]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/alerts?limit=20", headers={"X-API-Key": KEY})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=10.0, help="give up on one line after this many seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, log = Path(tmp) / "home", Path(tmp) / "access.log"
        home.mkdir()
        log.write_text("", encoding="utf-8")
        config = Path(tmp) / "canhgac.yaml"
        config.write_text(CONFIG.format(log=log, digest=hashlib.sha256(KEY.encode()).hexdigest()), encoding="utf-8")
        port = free_port()
        env = {**os.environ, "CANHGAC_HOME": str(home)}
        server = subprocess.Popen([sys.executable, "-m", "canhgac.cli", "serve", "--config", str(config),
                                   "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    get_alerts(port)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            latencies = []
            known = {alert["id"] for alert in get_alerts(port)}
            for n in range(args.appends):
                ip = f"203.0.113.{n % 250 + 1}"
                stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0700", time.gmtime(time.time() + 7 * 3600))
                line = (f'{ip} - - [{stamp}] "GET /tra-cuu?q=%27%20UNION%20SELECT%20{n},password%20FROM%20users-- '
                        f'HTTP/1.1" 500 312 "-" "bench/{n}"\n')
                started = time.perf_counter()
                with log.open("a", encoding="utf-8") as out:
                    out.write(line)
                while time.perf_counter() - started < args.timeout:
                    fresh = [alert for alert in get_alerts(port) if alert["id"] not in known]
                    if any(alert.get("entities", {}).get("source.ip") == ip for alert in fresh):
                        known.update(alert["id"] for alert in fresh)
                        break
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    within = sum(value <= 1.0 for value in latencies)
    print(f"{len(latencies)} appends: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1] * 1000:.0f} ms, "
          f"{within} within 1 s")
    print(f"RESULT appends={len(latencies)} p50_ms={p50:.0f} p99_ms={p99:.0f} max_ms={latencies[-1] * 1000:.0f} "
          f"within_1s={within}")


if __name__ == "__main__":
    main()
