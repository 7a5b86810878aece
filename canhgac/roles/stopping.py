"""What ``collect`` and ``worker`` share: stop on SIGTERM/SIGINT or after ``--duration``."""

from __future__ import annotations

import argparse
import signal
import threading

from canhgac.core.i18n import pick


def add_duration(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--duration", type=float, default=None,
                     help=pick("dừng sau bấy nhiêu giây", "stop after this many seconds"))


def stop_event(duration: float | None) -> threading.Event:
    stop = threading.Event()

    def asked(signum: int, frame: object) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, asked)
    if duration is not None:
        timer = threading.Timer(duration, stop.set)
        timer.daemon = True
        timer.start()
    return stop
