"""The real relays, run in the foreground as a test's own processes: their configuration, pid file, work and
state folders under the test's tmp folder, talking to 127.0.0.1 only. ``.ci/run`` installs rsyslog with apt
and unpacks syslog-ng into ``var/syslog-ng`` (the two packages conflict); a missing one skips with a reason."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: The relays run where the logs were written: a server in Vietnam, whose local times are +07:00.
ZONE = {"TZ": "Asia/Ho_Chi_Minh"}
SYSLOG_NG_ROOT = Path(os.environ.get("CANHGAC_SYSLOG_NG_ROOT", ROOT / "var" / "syslog-ng"))
NGINX_ROOT = Path(os.environ.get("CANHGAC_NGINX_ROOT", ROOT / "var" / "nginx"))


def rsyslogd() -> str:
    found = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if Path("/usr/sbin/rsyslogd").exists() else None)
    if found is None:
        pytest.skip("rsyslogd is not installed (.ci/run installs it with apt-get install rsyslog rsyslog-relp)")
    return found


def has_rsyslog_module(name: str) -> bool:
    return any(Path(folder, f"{name}.so").exists() for folder in ("/usr/lib/x86_64-linux-gnu/rsyslog",
                                                                   "/usr/lib/aarch64-linux-gnu/rsyslog",
                                                                   "/usr/lib/rsyslog"))


@dataclass
class Relay:
    """One relay process; ``stop`` asks it to finish (its queue saved), ``close`` makes sure it is gone."""

    folder: Path
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Relay:
        log = (self.folder / "relay.out").open("wb")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.folder)
        log.close()
        return self

    def output(self) -> str:
        return (self.folder / "relay.out").read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def close(self) -> None:
        self.stop()


def rsyslog(folder: Path, body: str) -> Relay:
    """rsyslogd -n with ``body`` (a docs/shipping recipe) after the globals a private instance needs."""
    binary = rsyslogd()
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "work"
    work.mkdir(exist_ok=True)
    config = folder / "rsyslog.conf"
    config.write_text(f'global(workDirectory="{work}" maxMessageSize="64k")\n{body}', encoding="utf-8")
    check = subprocess.run([binary, "-N1", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr + check.stdout
    return Relay(folder, [binary, "-n", "-f", str(config), "-i", str(folder / "rsyslogd.pid")],
                 {**os.environ, **ZONE}).start()


def syslog_ng_binary() -> Path:
    binary = SYSLOG_NG_ROOT / "usr" / "sbin" / "syslog-ng"
    if not binary.exists():
        pytest.skip(f"syslog-ng is not unpacked in {SYSLOG_NG_ROOT} (.ci/run: apt-get download syslog-ng-core "
                    "syslog-ng-mod-http syslog-ng-scl and its libraries, then dpkg -x)")
    return binary


def syslog_ng(folder: Path, body: str) -> Relay:
    """syslog-ng -F from the unpacked package, its modules, libraries and SCL, with ``body`` as configuration."""
    binary = syslog_ng_binary()
    root = SYSLOG_NG_ROOT
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "syslog-ng.conf"
    include = root / "usr" / "share" / "syslog-ng" / "include"
    # What Debian's /etc/syslog-ng/syslog-ng.conf starts with, before it includes conf.d/.
    scl = root / "etc" / "syslog-ng" / "scl.conf"
    config.write_text(f'@version: 3.38\n@define include-path "{include}"\n@include "{scl}"\n{body}',
                      encoding="utf-8")
    modules = next((root / "usr" / "lib" / "syslog-ng").glob("3.*"))
    libraries = [root / "usr" / "lib" / "syslog-ng", root / "usr" / "lib" / "x86_64-linux-gnu",
                 root / "lib" / "x86_64-linux-gnu"]
    env = {**os.environ, **ZONE, "LD_LIBRARY_PATH": ":".join(map(str, libraries))}
    common = [f"--module-path={modules}", f"--cfgfile={config}", f"--persist-file={folder / 'syslog-ng.persist'}",
              f"--pidfile={folder / 'syslog-ng.pid'}", f"--control={folder / 'syslog-ng.ctl'}"]
    check = subprocess.run([str(binary), *common, "--syntax-only"], env=env, capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr + check.stdout
    return Relay(folder, [str(binary), *common, "--foreground", "--stderr", "--no-caps"], env).start()


def nginx(folder: Path, port: int, directives: str) -> Relay:
    """nginx (unpacked from Debian's package) on 127.0.0.1:``port``, answering 200 to everything, with the
    documented ``access_log`` directives."""
    binary = NGINX_ROOT / "usr" / "sbin" / "nginx"
    if not binary.exists():
        pytest.skip(f"nginx is not unpacked in {NGINX_ROOT} (.ci/run: apt-get download nginx, then dpkg -x)")
    folder.mkdir(parents=True, exist_ok=True)
    temp = " ".join(f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                      "scgi"))
    config = folder / "nginx.conf"
    config.write_text(f"""daemon off;
pid {folder / 'nginx.pid'};
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
  {temp}
  server {{
    listen 127.0.0.1:{port};
    {directives}
    location / {{ return 200 "ok"; }}
  }}
}}
""", encoding="utf-8")
    command = [str(binary), "-p", str(folder), "-e", "stderr", "-c", str(config)]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    return Relay(folder, command, {**os.environ, **ZONE}).start()
