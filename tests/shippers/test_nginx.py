"""nginx's own ``access_log syslog:`` (docs/shipping/nginx-syslog.conf), from the real nginx of Debian: the
requests it relays over UDP are stored as ``canhgac ingest`` of its access log file stores them, with the
same alerts (six SQL injections and a scanner among citizens' requests)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.shippers.harness import (
    SQL_INJECTIONS,
    MixedLogs,
    Server,
    accepts,
    assert_same_as_ingest,
    count_rows,
    free_port,
    ingest_reference,
)
from tests.shippers.programs import nginx
from tests.shippers.recipes import DOC_HOST, DOC_NGINX_LOG, DOC_PORT, doc_includes, recipe

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, whatever the environment


def _get(port: int, path: str, agent: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"User-Agent": agent})
    try:
        with DIRECT.open(request, timeout=5) as answer:
            answer.read()
    except urllib.error.HTTPError:
        pass


def test_nginx_access_log_to_syslog(server: Server, tmp_path: Path) -> None:
    server.start()
    port, access = free_port(), tmp_path / "nginx" / "access.log"
    directives = recipe("nginx-syslog.conf", (DOC_NGINX_LOG, str(access)),
                        (f"server={DOC_HOST}:{DOC_PORT}", f"server=127.0.0.1:{server.udp_port}"))
    web = nginx(tmp_path / "nginx", port, "\n".join(line for line in directives.splitlines()
                                                    if not line.startswith("#")))
    try:
        server.wait_for(lambda: accepts(port), 10, "nginx to start")
        requests = [(f"/ho-so/{n}?trang={n % 3}", "Mozilla/5.0 (Windows NT 10.0; Win64)") for n in range(20)]
        requests += [(path, "Mozilla/5.0 (X11; Linux x86_64)") for path in SQL_INJECTIONS]
        requests.append(("/wp-login.php", "sqlmap/1.7.2#stable"))
        for path, agent in requests:
            _get(port, path, agent)
        server.wait_for_events(len(requests))
    finally:
        web.close()
    time.sleep(0.2)
    assert len(access.read_text(encoding="utf-8").splitlines()) == len(requests)
    auth = tmp_path / "auth.log"
    auth.write_text("", encoding="utf-8")
    reference = ingest_reference(tmp_path / "reference", MixedLogs(access, auth))
    assert count_rows(server.database) == len(requests)
    assert_same_as_ingest(server.stored(), reference, frozenset({"SQL Injection Attempt in the Request"}))


def test_the_recipe_is_in_the_guide() -> None:
    assert doc_includes("nginx-syslog.conf")
