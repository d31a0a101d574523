"""The router's view of a run: what Heroku's router logged during the load, read from a
log-drain receiver (metrics/drain), beside Locust's own figures.

The receiver counts every router line it reads. The runner reads its /metrics right before
the load and again after it; the difference is what the router saw: requests by status class,
Heroku error code and dyno, and the service time's average and p95 from the histogram's
buckets. Against a deployed app the receiver is the user's (`--drain URL`); a local run starts
its own, fed from the router stand-in by the local Logplex (logplex.py).
"""

from __future__ import annotations

import math
import os
import time
import urllib.error
import urllib.request
from bisect import bisect_left
from collections import Counter
from itertools import accumulate

from prometheus_client.parser import text_string_to_metric_families

from loadtests.logplex import LocalLogplex
from loadtests.summary import format_ms

# Logplex delivers a drain's lines in batches, usually a second or two after the router logged
# them; the reading after a load against a deployed app waits this long, so the load's last
# requests are in it. (A local run flushes its own Logplex instead.)
LOGPLEX_SETTLE_S = 5
READ_TIMEOUT_S = 10
QUANTILE = 0.95
REQUESTS = "heroku_router_requests_total"
SERVICE = "heroku_router_service_seconds"
# The receiver's own CPU (prometheus_client's process collector): what a local run's costs.
RECEIVER_CPU = "process_cpu_seconds_total"
NO_DYNO = "(none)"  # lines that name no dyno (H10, H11...)
SOURCES = {"local": "Caddy through the local Logplex", "heroku": "Heroku drain"}

Reading = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class DrainUnreadable(Exception):
    """The receiver's /metrics could not be read; the message is one line."""


def read(url: str) -> Reading:
    """The receiver's router series and CPU now, as {(sample name, sorted labels): value}.
    DRAIN_METRICS_TOKEN, when set, is sent as the bearer token the receiver then asks for."""
    request = urllib.request.Request(url)
    token = os.environ.get("DRAIN_METRICS_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT_S) as response:
            text = response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        hint = " (set DRAIN_METRICS_TOKEN)" if error.code == 401 else ""
        raise DrainUnreadable(f"{url} answered {error.code} {error.reason}{hint}") from None
    except (OSError, ValueError) as error:
        raise DrainUnreadable(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
    if "heroku_drain_" not in text:
        raise DrainUnreadable(f"{url} is not a drain receiver's /metrics (no heroku_drain_ series)")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith((REQUESTS, SERVICE)) or sample.name == RECEIVER_CPU
    }


def increase(before: Reading, after: Reading) -> Reading:
    """Each series' increase between the readings. One that went down was reset (the receiver
    restarted, or forgot a dyno silent past its TTL) and counts from 0, as in PromQL."""
    return {
        key: value - before.get(key, 0.0) if value >= before.get(key, 0.0) else value
        for key, value in after.items()
    }


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile (0 < q <= 1) of cumulative buckets [(upper bound, count)], as PromQL's
    histogram_quantile computes it (bucketQuantile in prometheus/promql/quantile.go): linear
    interpolation inside the bucket that holds the rank, 0 as the lowest bucket's lower bound
    when that bucket's bound is positive, and the highest finite bound when the rank falls in
    +Inf. None where PromQL gives NaN: no +Inf bucket, fewer than two buckets, no observations.
    """
    ordered = sorted(buckets)
    if len(ordered) < 2 or ordered[-1][0] != math.inf:
        return None
    bounds = [bound for bound, _ in ordered]
    # Counts never fall with the bound; where inconsistent data says otherwise, PromQL takes
    # the running maximum.
    counts = list(accumulate((count for _, count in ordered), max))
    if counts[-1] == 0:
        return None
    rank = q * counts[-1]
    b = bisect_left(counts, rank, 0, len(counts) - 1)  # the first bucket reaching the rank
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, count = 0.0, counts[b]
    if b > 0:
        start, count, rank = bounds[b - 1], count - counts[b - 1], rank - counts[b - 1]
    return start + (bounds[b] - start) * rank / count


def view(before: Reading, after: Reading) -> dict:
    """What the router logged between the readings (summary.json's `router`, README)."""
    requests, classes, codes, dynos = 0, Counter(), Counter(), Counter()
    buckets: Counter[float] = Counter()  # upper bound -> requests, all dynos together
    service: Counter[str] = Counter()  # sum, count
    for (name, labels), value in increase(before, after).items():
        label = dict(labels)
        if name == REQUESTS and value:
            count = round(value)
            requests += count
            classes[f"{label['status'][0]}xx"] += count
            if label["code"]:
                codes[label["code"]] += count
            dynos[label["dyno"] or NO_DYNO] += count
        elif name == f"{SERVICE}_bucket":
            buckets[float(label["le"])] += value
        elif name in (f"{SERVICE}_sum", f"{SERVICE}_count"):
            service[name.rsplit("_", 1)[1]] += value
    p95 = histogram_quantile(QUANTILE, list(buckets.items()))
    return {
        "requests": requests,
        "by_status_class": dict(sorted(classes.items())),
        "codes": dict(codes.most_common()),
        "by_dyno": dict(sorted(dynos.items())),
        "service_avg_ms": (
            round(1000 * service["sum"] / service["count"], 1) if service["count"] else None
        ),
        "service_p95_ms": None if p95 is None else round(1000 * p95, 1),
    }


class RouterWatch:
    """Reads the receiver at `metrics_url` right before the load (`start`) and after it
    (`finish`); `logplex` is a local run's, flushed before each reading."""

    def __init__(self, metrics_url: str, logplex: LocalLogplex | None = None):
        self.metrics_url = metrics_url
        self._logplex = logplex
        self._before: Reading | None = None
        self._error: str | None = None

    def start(self) -> None:
        try:
            if self._logplex:  # what the router answered before the load is not the load's
                self._logplex.flush()
            self._before = read(self.metrics_url)
        except (DrainUnreadable, OSError, ValueError) as error:
            self._error = str(error)

    def finish(self, locust_requests: int) -> dict:
        """The router's view of the load, beside the `locust_requests` Locust counted."""
        source = "local" if self._logplex else "heroku"
        head = {"source": source, "drain_url": self.metrics_url}
        try:
            if self._error:
                raise DrainUnreadable(self._error)
            if self._logplex:
                self._logplex.flush()
            else:
                time.sleep(LOGPLEX_SETTLE_S)
            after = read(self.metrics_url)
        except (DrainUnreadable, OSError, ValueError) as error:
            return head | {"error": str(error)}
        result = head | view(self._before, after)
        result["locust_minus_router"] = locust_requests - result["requests"]
        if self._logplex:
            cpu = increase(self._before, after).get((RECEIVER_CPU, ()), 0.0)
            result["local_logplex"] = {
                "lines": self._logplex.lines,
                "cpu_s": round(self._logplex.cpu_s, 2),
                "receiver_cpu_s": round(cpu, 2),
            }
        return result


def text(summary: dict) -> str:
    """The router's view as summary.txt prints it beside Locust's figures ('' without one)."""
    router = summary.get("router")
    if router is None:
        return ""
    head = f"  router ({SOURCES[router['source']]}): "
    if "error" in router:
        return f"{head}not read: {router['error']}\n"
    requests = router["requests"]
    parts = [f"{requests:,} requests"]
    if requests:
        parts.append(f"{router['by_status_class'].get('5xx', 0) / requests:.1%} 5xx")
    parts += [f"{code} x {count:,}" for code, count in router["codes"].items()]
    line = head + ", ".join(parts)
    if router["service_avg_ms"] is not None:
        average, p95 = format_ms(router["service_avg_ms"]), format_ms(router["service_p95_ms"])
        line += f"; service avg {average}, p95 {p95}"
    if router["by_dyno"]:
        line += "; " + " / ".join(f"{dyno} {count:,}" for dyno, count in router["by_dyno"].items())
    lines = [line]
    missing = router["locust_minus_router"]
    if missing > 0:
        lines.append(
            f"  router vs Locust: Locust counted {missing:,} requests the router did not log "
            "(they failed before the router: connection errors, Locust's own timeouts)"
        )
    elif missing < 0:
        lines.append(
            f"  router vs Locust: the router logged {-missing:,} requests Locust did not count "
            "(users stopped mid-request as the run ended, H27 if the router noticed; a lost "
            "Locust worker's last unreported requests; other traffic to the app)"
        )
    return "\n".join(lines) + "\n"
