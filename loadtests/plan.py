"""Plan a Heroku deployment: does it fit the database's (and Redis's) connections, and how many
dynos does a target need?

    python -m loadtests.plan --dynos N --threads N [--workers N] [--limit N] [--target-rpm N]
                             [--rpm-per-dyno N] [--pool-size N] [--redis-limit N]

(`make plan DYNOS=N THREADS=N [WORKERS=N] [LIMIT=N] [TARGET_RPM=N] [REDIS_LIMIT=N]`.) Exit
status 1 when the set-up cannot fit a limit. A dyno's capacity is what its CPU share can serve:
the share divided by the CPU a request cost the dynos, from the local Waitress runs in runs/ on
dynos capped at the share sized to the machine (loadtests/dyno_cpu.py), never a run's offered
load (a light run says nothing of what the dyno could have served). --rpm-per-dyno overrides it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from loadtests.budget import Deployment, Verdict, dynos_for, redis_line

ROOT = Path(__file__).resolve().parent.parent
# Heroku Postgres Essential-0/1 (and the seed's hobby-dev): 20 connections.
DEFAULT_LIMIT = 20
# A dyno "serves" a load while its p95 stays under the HighLatency alert's threshold; past it
# the queue, not the dyno, sets the figure.
SERVED_P95_MS = 1000
# Runs with fewer requests measure the scrapes' and the idle process's CPU more than requests'.
MIN_REQUESTS = 1000


def served(summary: dict) -> bool:
    """The run served its load: no errors and a p95 under SERVED_P95_MS."""
    p95 = summary["p95_ms"]
    return summary["error_rate"] == 0 and p95 is not None and p95 < SERVED_P95_MS


def rpm_per_dyno_from_cpu(summary: dict) -> float | None:
    """What one dyno's CPU share serves, from a local Waitress run on sized dynos: the share
    (cores) over the CPU a request cost the dynos (ms), in requests per minute. None for a run
    that cannot tell (uncapped, a share set by hand, another server, too few requests)."""
    cpu = summary.get("dyno_cpu") or {}
    cores, ms_per_request = cpu.get("cores"), cpu.get("ms_per_request")
    if not (
        cpu.get("sized_to_host")
        and cores
        and ms_per_request
        and str(summary.get("setup", "")).startswith("waitress")
        and summary.get("requests", 0) >= MIN_REQUESTS
    ):
        return None
    return cores * 60_000 / ms_per_request


def measured_rpm_per_dyno(runs_dir: Path) -> tuple[float, int] | None:
    """The median capacity per dyno over the runs that can tell, and how many there were."""
    capacities = []
    for path in runs_dir.glob("*/summary.json"):
        try:
            capacity = rpm_per_dyno_from_cpu(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if capacity:
            capacities.append(capacity)
    return (statistics.median(capacities), len(capacities)) if capacities else None


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="make plan", description=__doc__.split("\n")[0])
    parser.add_argument("--dynos", type=positive, required=True)
    parser.add_argument(
        "--threads", type=positive, required=True, help="threads per process (WAITRESS_THREADS)"
    )
    parser.add_argument(
        "--workers", type=positive, default=1, help="processes per dyno (WEB_CONCURRENCY)"
    )
    parser.add_argument("--limit", type=positive, default=DEFAULT_LIMIT, help="max_connections")
    parser.add_argument("--pool-size", type=positive, help="PgBouncer's server connections")
    parser.add_argument("--target-rpm", type=positive, help="requests per minute to serve")
    parser.add_argument("--rpm-per-dyno", type=positive, help="measured capacity of one dyno")
    parser.add_argument("--redis-limit", type=positive, help="the Redis plan's max connections")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    args = parser.parse_args(argv)

    server = (
        f"{args.threads} threads"
        if args.workers == 1
        else (f"{args.workers} workers × {args.threads} threads")
    )
    deployment = Deployment(
        dynos=args.dynos,
        processes_per_dyno=args.workers,
        connections_per_process=args.threads,
        pool_size=args.pool_size,
        describe_server=server,
    )
    verdict = Verdict(deployment, args.limit)
    print(verdict.line())
    fits = verdict.fits
    if args.redis_limit or os.environ.get("REDIS_URL"):
        line, redis_fits = redis_line(deployment, args.redis_limit)
        print(line)
        fits = fits and redis_fits
    if args.target_rpm:
        print(capacity_line(args.target_rpm, args.rpm_per_dyno, args.runs_dir, verdict))
    return 0 if fits else 1


def capacity_line(target: int, given: int | None, runs_dir: Path, verdict: Verdict) -> str:
    if given:
        rpm, source = float(given), "--rpm-per-dyno"
    else:
        measured = measured_rpm_per_dyno(runs_dir)
        if measured is None:
            return (
                "capacity: no Waitress run on sized dynos in runs/ yet says what a dyno's CPU "
                "serves; run `make loadtest TEST=5` or pass --rpm-per-dyno"
            )
        rpm = measured[0]
        source = f"its CPU share over its CPU per request, median of {measured[1]} run(s)"
    needed = dynos_for(target, rpm)
    line = (
        f"capacity: {target:,} req/min at {rpm:,.0f} req/min per dyno ({source}) "
        f"needs {needed} dyno(s)"
    )
    if verdict.deployment.pool_size is None and needed > verdict.max_dynos:
        line += f", more than the {verdict.max_dynos} the connection limit allows: add a pooler"
    return line


if __name__ == "__main__":
    sys.exit(main())
