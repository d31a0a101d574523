"""Plan a Heroku deployment: does it fit the database's connections, and how many dynos?

    python -m loadtests.plan --dynos N --threads N [--limit N] [--target-rpm N]
                             [--rpm-per-dyno N] [--pool-size N]

(`make plan DYNOS=N THREADS=N [LIMIT=N] [TARGET_RPM=N]`.) Exit status 1 when the set-up
cannot fit the limit. Throughput per dyno comes from the best run in runs/ that served a
Waitress set-up on dynos capped at the CPU share sized to the machine (loadtests/dyno_cpu.py)
with no errors and a p95 under a second, unless --rpm-per-dyno gives it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from loadtests.budget import Deployment, Verdict, dynos_for

ROOT = Path(__file__).resolve().parent.parent
# Heroku Postgres Essential-0/1 (and the seed's hobby-dev): 20 connections.
DEFAULT_LIMIT = 20
# A dyno "serves" a load while its p95 stays under the HighLatency alert's threshold; past it
# the queue, not the dyno, sets the figure.
SERVED_P95_MS = 1000


def served(summary: dict) -> bool:
    """The run served its load: no errors and a p95 under SERVED_P95_MS."""
    p95 = summary["p95_ms"]
    return summary["error_rate"] == 0 and p95 is not None and p95 < SERVED_P95_MS


def measured_rpm_per_dyno(runs_dir: Path) -> tuple[float, str] | None:
    """The highest requests per minute per dyno among local Waitress runs on dynos capped at
    the share sized to the machine (an uncapped run measures the laptop, and a share set by
    hand another size of dyno) that had no errors and a p95 under a second."""
    best = None
    for path in runs_dir.glob("*/summary.json"):
        try:
            summary = json.loads(path.read_text())
            setup, dynos = summary["setup"], summary.get("dynos", 1)
            counts = (
                served(summary)
                and (summary.get("dyno_cpu") or {}).get("sized_to_host")
                and not summary.get("load_generator_saturated")
            )
            rpm = summary["requests_per_minute"] / dynos
        except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
            continue
        if counts and setup.startswith("waitress") and (best is None or rpm > best[0]):
            best = (rpm, path.parent.name)
    return best


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
    parser.add_argument("--threads", type=positive, required=True, help="WAITRESS_THREADS")
    parser.add_argument("--limit", type=positive, default=DEFAULT_LIMIT, help="max_connections")
    parser.add_argument("--pool-size", type=positive, help="PgBouncer's server connections")
    parser.add_argument("--target-rpm", type=positive, help="requests per minute to serve")
    parser.add_argument("--rpm-per-dyno", type=positive, help="measured capacity of one dyno")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    args = parser.parse_args(argv)

    deployment = Deployment(
        dynos=args.dynos,
        processes_per_dyno=1,
        connections_per_process=args.threads,
        pool_size=args.pool_size,
        describe_server=f"{args.threads} Waitress threads",
    )
    verdict = Verdict(deployment, args.limit)
    print(verdict.line())
    if args.target_rpm:
        print(capacity_line(args.target_rpm, args.rpm_per_dyno, args.runs_dir, verdict))
    return 0 if verdict.fits else 1


def capacity_line(target: int, given: int | None, runs_dir: Path, verdict: Verdict) -> str:
    if given:
        rpm, source = float(given), "--rpm-per-dyno"
    else:
        measured = measured_rpm_per_dyno(runs_dir)
        if measured is None:
            return (
                "capacity: no Waitress run on capped dynos served its load in runs/ yet; run "
                "`make loadtest TEST=5` or pass --rpm-per-dyno"
            )
        rpm, source = measured[0], f"runs/{measured[1]}"
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
