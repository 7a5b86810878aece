"""``canhgac cluster status``: the workers, who owns each partition, its lag, and the stream's replicas;
``canhgac cluster subjects``: the subject a shipper publishes each agency's lines to."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from canhgac.core.config import load_settings
from canhgac.core.i18n import cli_language, pick
from canhgac.core.text import printable, printable_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    from canhgac.commands import group_help

    text = pick("cụm phân tán: worker, phân vùng, độ trễ, tình trạng luồng",
                "the distributed cluster: workers, partitions, lag, stream health")
    group = commands.add_parser("cluster", parents=[common], help=text, description=text)
    group_help(group)
    sub = group.add_subparsers(dest="cluster_command", metavar=pick("LỆNH", "COMMAND"))
    text = pick("worker đang sống, chủ và độ trễ của từng phân vùng, bản sao của luồng",
                "live workers, owner and lag of each partition, the stream's replicas")
    status = sub.add_parser("status", parents=[common], help=text, description=text)
    status.add_argument("--json", action="store_true", help=pick("in dạng JSON", "print JSON"))
    status.set_defaults(handler=run_status)
    text = pick("chủ đề (subject) NATS của từng cơ quan, để Vector hay Fluent Bit gửi thẳng lên luồng",
                "each agency's NATS subject, for Vector or Fluent Bit publishing straight to the stream")
    subjects = sub.add_parser("subjects", parents=[common], help=text, description=text)
    subjects.add_argument("--agency", default=None, help=pick("chỉ cơ quan này", "only this agency"))
    subjects.add_argument("--json", action="store_true", help=pick("in dạng JSON", "print JSON"))
    subjects.set_defaults(handler=run_subjects)


def cluster_status(settings: Any) -> dict[str, Any]:
    from canhgac.collectors.bus.leases import PartitionLeases
    from canhgac.roles.bus import open_bus

    bus = open_bus(settings, wait_seconds=5)
    try:
        config = settings.cluster.bus
        leases = PartitionLeases(bus, "status", settings.cluster.leases.bucket, settings.cluster.leases.ttl_seconds)
        owners = leases.owners()
        workers = leases.live_workers()
        partitions = [{"partition": p, "owner": owners.get(p), "lag_batches": bus.lag(config.group, p)}
                      for p in range(bus.partitions)]
        now = time.time()
        alive = [{"id": wid, "partitions": info.get("partitions", []), "lines": info.get("lines", 0),
                  "seen_seconds_ago": round(now - float(info.get("at", 0)), 1)}
                 for wid, info in sorted(workers.items())]
        return {"group": config.group, "workers": alive, "partitions": partitions, "stream": bus.health()}
    finally:
        bus.close()


def run_status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    language = cli_language(settings.language)
    status = cluster_status(settings)
    if args.json:
        print(printable_json(json.dumps(status, ensure_ascii=False)))
        return 0
    stream = status["stream"]
    print(printable(pick(f"Luồng {stream['stream']}: {stream['batches']} lô, {stream['bytes']} byte",
                         f"Stream {stream['stream']}: {stream['batches']} batches, {stream['bytes']} bytes",
                         language)))
    for replica in stream["replicas"]:
        role = pick("dẫn đầu", "leader", language) if replica["leader"] else (
            pick("ngoại tuyến", "offline", language) if replica["offline"] else
            pick("bắt kịp", "current", language) if replica["current"] else pick("đang trễ", "lagging", language))
        print(printable(f"  {replica['name']}: {role}"))
    print(printable(pick(f"Worker đang sống ({len(status['workers'])}):",
                         f"Live workers ({len(status['workers'])}):", language)))
    for worker in status["workers"]:
        owned = ", ".join(str(p) for p in worker["partitions"]) or "—"
        print(printable(f"  {worker['id']}: {pick('phân vùng', 'partitions', language)} {owned}"))
    print(printable(pick("phân vùng  chủ  trễ (lô)", "partition  owner  lag (batches)", language)))
    for row in status["partitions"]:
        lag = "—" if row["lag_batches"] is None else str(row["lag_batches"])
        print(printable(f"  {row['partition']:>3}  {row['owner'] or pick('(chưa ai)', '(nobody)', language)}  {lag}"))
    return 0


def agency_subjects(settings: Any, agency: str | None = None) -> list[dict[str, Any]]:
    """Where a shipper publishes an agency's lines: its partition's subject (docs/shipping/bus.md)."""
    from canhgac.collectors.bus.base import partition_of
    from canhgac.roles.bus import NoBus

    config = settings.cluster.bus
    if config is None:
        raise NoBus("cluster.bus is not configured: there is no stream to publish to "
                    "(see docs/decisions/0047-roles-and-partition-leases.md)")
    language = cli_language(settings.language)
    rows = []
    for unit in settings.agencies:
        if agency is not None and unit.id != agency:
            continue
        partition = partition_of(unit.id, config.partitions)
        rows.append({"agency": unit.id, "name": unit.name(language), "partition": partition,
                     "subject": f"{config.subject_prefix}.{partition}"})
    if agency is not None and not rows:
        from canhgac.core.errors import NotFound

        raise NotFound(f"unknown agency {agency!r}")
    return rows


def run_subjects(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    rows = agency_subjects(settings, args.agency)
    if args.json:
        print(printable_json(json.dumps(rows, ensure_ascii=False)))
        return 0
    language = cli_language(settings.language)
    width = max([len(row["agency"]) for row in rows] + [8])
    print(printable(f"{pick('cơ quan', 'agency', language):<{width}}  {pick('phân vùng', 'partition', language)}  "
                    "subject"))
    for row in rows:
        print(printable(f"{row['agency']:<{width}}  {row['partition']:>9}  {row['subject']}  ({row['name']})"))
    return 0
