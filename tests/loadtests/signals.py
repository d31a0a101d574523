"""When each alert's condition had held for its `for:` in a run, read back from the run's own
Prometheus with the same rule expressions (FAST timing) the run evaluated."""

import json
import urllib.parse
import urllib.request

from loadtests.prometheus import SCRAPE_INTERVAL_S
from metrics.alerting import http, loadgen, queueing
from metrics.alerting.config import FAST

# Rule evaluation interval: the run's Prometheus evaluates its rules at every scrape.
STEP_S = SCRAPE_INTERVAL_S
# Each alert's conditions (any one of its rules), and its `for:`.
CONDITIONS = {
    "RequestQueueing": [rule["expr"] for rule in queueing.rules(FAST)],
    "HighLatency": [http.high_latency(FAST)["expr"], loadgen.client_latency(FAST)["expr"]],
}
FOR_S = {"RequestQueueing": FAST.queueing_for, "HighLatency": FAST.latency_for}


def true_at(url: str, expr: str, start: int, end: float) -> list[set[int]]:
    """For each series of `expr`, the evaluation times (whole seconds, on a STEP_S grid) at
    which it had a value, that is at which its condition was true."""
    query = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": STEP_S})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{query}", timeout=30) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    return [{round(float(t)) for t, _ in series["values"]} for series in body["data"]["result"]]


def first_held(times: set[int], seconds: int) -> int | None:
    """The first time at which a condition true at `times` had been true at every evaluation
    for `seconds`, and at one more (an edge seen between two evaluations is not counted)."""
    needed = seconds // STEP_S + 2
    streak = 0
    for t in sorted(times):
        streak = streak + 1 if t - STEP_S in times else 1
        if streak >= needed:
            return t
    return None


def signals_held(url: str, start: float, end: float) -> dict[str, int | None]:
    """For each alert, the first time one of its rules' series had held its condition for the
    alert's `for:` between `start` and `end`, or None when none did. Each series is its own
    alert instance in Prometheus, so streaks are not joined across series."""
    begin = int(start) - int(start) % STEP_S
    held = {}
    for name, exprs in CONDITIONS.items():
        streaks = [
            first_held(times, FOR_S[name])
            for expr in exprs
            for times in true_at(url, expr, begin, end)
        ]
        held[name] = min((t for t in streaks if t is not None), default=None)
    return held
