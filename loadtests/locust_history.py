"""The request rate at full load, from Locust's stats history (`--csv-full-history`: a row
about every second with the users running and the running total of requests)."""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

FILE_NAME = "locust_stats_history.csv"
# Fewer seconds at full load than this (a run stopped in its ramp) give no figure.
MIN_ROWS = 3


def full_load_requests_per_minute(path: Path, users: int) -> int | None:
    """Requests per minute from when every user had started to the end: the slope of Locust's
    running total over the rows at `users`. This is what a chart of a steady load shows after
    the ramp; the summary's requests_per_minute (the total over the whole duration) averages
    the ramp in. A least-squares line rather than the last row minus the first: in distributed
    mode the total grows by each worker's report every 3 s, and a row at either end may fall
    just before or just after one."""
    if not path.exists():
        return None
    with path.open(newline="") as lines:
        rows = [_figures(row) for row in csv.DictReader(lines) if row["Name"] == "Aggregated"]
    at_full = [
        (seconds, total) for seconds, running, total in filter(None, rows) if running == users
    ]
    if len({seconds for seconds, _ in at_full}) < MIN_ROWS:
        return None
    seconds, totals = zip(*at_full, strict=True)
    return round(60 * statistics.linear_regression(seconds, totals).slope)


def _figures(row: dict) -> tuple[int, int, int] | None:
    """Seconds, users and the running total, or None for a row cut short (the file is read
    after Locust exits, but a row half written by a killed one must not cost the summary)."""
    try:
        return int(row["Timestamp"]), int(row["User Count"]), int(row["Total Request Count"])
    except (TypeError, ValueError):
        return None
