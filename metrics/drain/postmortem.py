"""python -m metrics.drain.postmortem LOGFILE --out DIR: a saved log as a Prometheus TSDB block.

Reads `heroku logs` output (``2026-11-26T21:00:00.123456+00:00 heroku[router]: at=info ...``)
or a raw drain capture (octet-counted RFC 5424 messages, read by their counts as the receiver
reads a POST, so an L10 frame or a chunk without a newline costs nothing), replays it
through the receiver's own parsing and store on the log's clock, writes the series every
``--step`` seconds as OpenMetrics with timestamps, and turns that into blocks with
``promtool tsdb create-blocks-from openmetrics``. Point a Prometheus at DIR
(``--storage.tsdb.path=DIR``, with a retention longer than the logs' age) and the dashboards
show the test as it happened. Every series carries ``job`` and ``instance`` labels (default
``drain`` and ``postmortem``) so dashboard queries for the drain job match.
"""

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from prometheus_client.utils import floatToGoString

from metrics.drain import lines
from metrics.drain.collector import collect_store
from metrics.drain.frames import is_octet_counted, split_frames
from metrics.drain.records import epoch_seconds, from_any_line, from_syslog
from metrics.drain.store import Limits, Store


class PostmortemError(Exception):
    """Something the user can fix; the message is one line."""


def read_records(path: Path) -> tuple[list[tuple[float, str, str, str]], int]:
    """The file's records as (epoch seconds, source, process, message), in time order, and
    the number of lines that were not log records."""
    records, skipped = [], 0
    data = path.read_bytes()
    if is_octet_counted(data):
        messages, skipped = split_frames(data)
        candidates = [from_syslog(message) for message in messages]
    else:
        text = data.decode("utf-8", "replace")
        candidates = [from_any_line(line) for line in text.splitlines() if line.strip()]
    for record in candidates:
        seconds = epoch_seconds(record.timestamp) if record else None
        if seconds is None:
            skipped += 1
            continue
        records.append((seconds, record.source, record.process, record.message))
    records.sort(key=lambda r: r[0])  # stable: lines of one instant keep their order
    return records, skipped


class OpenMetricsBuffer:
    """Samples gathered per family and series, written grouped as OpenMetrics requires."""

    def __init__(self, extra_labels: dict[str, str]):
        self._extra = extra_labels
        self._families: dict[str, tuple[str, str, dict]] = {}  # name -> (type, help, series)

    def add(self, families, timestamp: float) -> None:
        for family in families:
            if not family.samples:
                continue
            kind = "unknown" if family.type == "untyped" else family.type
            _, _, series = self._families.setdefault(family.name, (kind, family.documentation, {}))
            for sample in family.samples:
                key = (sample.name, tuple(sorted({**sample.labels, **self._extra}.items())))
                series.setdefault(key, []).append((timestamp, sample.value))

    def series_count(self) -> int:
        return sum(len(series) for _, _, series in self._families.values())

    def write(self, handle) -> None:
        for name, (kind, help_text, series) in self._families.items():
            handle.write(f"# TYPE {name} {kind}\n# HELP {name} {_escape(help_text)}\n")
            for (sample_name, labels), points in series.items():
                label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                for timestamp, value in points:
                    handle.write(
                        f"{sample_name}{{{label_text}}} {floatToGoString(value)} {timestamp:.3f}\n"
                    )
        handle.write("# EOF\n")


def _escape(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def replay(records, step: float, limits: Limits, pg_max_connections, buffer) -> None:
    """Feed records on their own clock; snapshot the store at every multiple of ``step``
    (a snapshot at T holds every record up to and including T)."""
    store = Store(limits=limits)
    next_snapshot = None
    for seconds, source, process, message in records:
        if next_snapshot is None:
            next_snapshot = math.ceil(seconds / step) * step
        while seconds > next_snapshot:
            buffer.add(collect_store(store, next_snapshot, pg_max_connections), next_snapshot)
            next_snapshot += step
        lines.ingest(store, source, process, message, seconds)
    if next_snapshot is not None:
        buffer.add(collect_store(store, next_snapshot, pg_max_connections), next_snapshot)


def create_blocks(promtool: str, openmetrics: Path, out: Path) -> None:
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(openmetrics), str(out)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise PostmortemError(f"promtool failed: {detail[-1] if detail else result.returncode}")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m metrics.drain.postmortem",
        description="Turn a saved `heroku logs` file or drain capture into a Prometheus block.",
    )
    parser.add_argument("logfile", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="TSDB folder to write blocks to")
    parser.add_argument("--step", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--ttl", type=float, default=900.0, help="seconds before a dyno expires")
    parser.add_argument("--pg-max-connections", type=int, help="the Postgres plan's limit")
    parser.add_argument("--job", default="drain", help="job label on every series")
    parser.add_argument("--instance", default="postmortem", help="instance label on every series")
    parser.add_argument("--promtool", help="promtool binary (default: from PATH)")
    return parser.parse_args(argv)


def run(args) -> str:
    if not args.logfile.is_file():
        raise PostmortemError(f"{args.logfile}: no such file")
    if args.step <= 0 or args.ttl <= 0:
        raise PostmortemError("--step and --ttl must be positive")
    promtool = args.promtool or shutil.which("promtool")
    if promtool is None:
        raise PostmortemError("promtool not found on PATH (apt-get install prometheus)")
    records, skipped = read_records(args.logfile)
    if not records:
        raise PostmortemError(f"{args.logfile}: no Heroku log records found")
    buffer = OpenMetricsBuffer({"job": args.job, "instance": args.instance})
    replay(records, args.step, Limits(ttl_seconds=args.ttl), args.pg_max_connections, buffer)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        openmetrics = Path(scratch) / "drain.om"
        with openmetrics.open("w") as handle:
            buffer.write(handle)
        create_blocks(promtool, openmetrics, args.out)
    return (
        f"postmortem: {len(records)} records ({skipped} other lines skipped), "
        f"{buffer.series_count()} series from {records[0][0]:.0f} to {records[-1][0]:.0f} "
        f"(epoch s) written to {args.out}; view with: prometheus "
        f"--storage.tsdb.path={args.out} --storage.tsdb.retention.time=100y"
    )


def main(argv=None) -> int:
    try:
        print(run(parse_args(argv)))
    except PostmortemError as error:
        print(f"postmortem: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
