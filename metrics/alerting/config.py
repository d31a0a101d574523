"""Every threshold, window and `for:` duration the alerts use, each with the reason for its value.

Two timings come from the same numbers: NORMAL (the committed rules, for a real deployment and
the promtool tests) and FAST (end-to-end load runs of about a minute with a 2 s scrape and
evaluation interval), derived mechanically by `fast()` so the two never drift apart.
Durations are in seconds; `rules.duration()` writes them the Prometheus way ("5m").
"""

import os
import re
from dataclasses import dataclass, fields, replace

# --- Settings of the build (`make rules VAR=...`; `make dashboards` reads the runbook base too) --

# runbook_url is derived from the alert name with this one base (see rules.runbook_url). The
# default is the compose stack's runbook server (docker-compose.observability.yml, service
# `runbooks`, runbooks/ as plain text on 127.0.0.1:8089): it resolves wherever the stack that
# sends the notifications runs. Give your own to link elsewhere, e.g. your repository's pages:
# RUNBOOK_BASE_URL=https://github.com/OWNER/REPO/blob/main/runbooks/
DEFAULT_RUNBOOK_BASE_URL = "http://localhost:8089/"

# The scrape jobs that are the app (AppDown's `up` check): a load run's and metrics/prometheus.yml's
# `app`, and `heroku-app` for a deployed one. A regex; give yours, e.g. APP_JOBS='app|myapp'.
DEFAULT_APP_JOBS = "app|heroku-app"


class BuildSettingError(ValueError):
    """A malformed RUNBOOK_BASE_URL or APP_JOBS: the message names it."""


def runbook_base_url(raw: str) -> str:
    url = raw.strip() or DEFAULT_RUNBOOK_BASE_URL
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise BuildSettingError(f"RUNBOOK_BASE_URL must be an http(s) URL, got {raw!r}")
    return url if url.endswith("/") else url + "/"


def app_jobs(raw: str) -> str:
    jobs = raw.strip() or DEFAULT_APP_JOBS
    try:
        re.compile(jobs)
    except re.error as error:
        raise BuildSettingError(
            f"APP_JOBS must be a regular expression ({error}), got {raw!r}"
        ) from None
    if '"' in jobs or "\\" in jobs:
        raise BuildSettingError(f"APP_JOBS must be job names joined by |, got {raw!r}")
    return jobs


try:
    RUNBOOK_BASE_URL = runbook_base_url(os.environ.get("RUNBOOK_BASE_URL", ""))
    APP_JOBS = app_jobs(os.environ.get("APP_JOBS", ""))
except BuildSettingError as error:
    # Read on import by every entry point (make rules, make dashboards, a load run): one line.
    raise SystemExit(f"error: {error}") from None

# --- Thresholds (the same in both timings) -------------------------------------------------

# Warn at 80% of max_connections: the value awesome-prometheus-alerts and the postgres_exporter
# mixin use. On Heroku's Essential-0/1 plans (20 connections, FACTS) that is 16 connections.
DB_CONNECTIONS_WARNING_RATIO = 0.8

# Critical when 3 or fewer slots are left: PostgreSQL keeps superuser_reserved_connections (3 by
# default) for superusers, so ordinary roles already get "remaining connection slots are
# reserved" there, and "sorry, too many clients already" one step later (FACTS).
DB_CONNECTIONS_CRITICAL_FREE_SLOTS = 3

# Error-budget SLO for 5xx responses: 99.9%, the SRE workbook's worked example. A page that reads
# one row by primary key has no reason to fail more often than 1 request in 1000.
ERROR_BUDGET = 0.001

# Multi-window, multi-burn-rate pairs from the SRE workbook ("Alerting on SLOs", table 5-8):
# burning 2% of a 30-day budget in 1 h (14.4x) or 5% in 6 h (6x) pages. The short window (1/12
# of the long one) makes the alert stop soon after the errors stop. Each is (long, short, burn).
BURN_RATE_WINDOWS = ((3600, 300, 14.4), (21600, 1800, 6.0))

# No-traffic guard: below 1 request/s a handful of failed requests is not a trend worth a page.
# The seed's smallest test ran about 2,000 requests/minute (33/s), far above it.
MIN_REQUESTS_PER_SECOND = 1.0

# More than half of the responses are 400: a configuration problem (ALLOWED_HOSTS), not a few
# bad clients. The seed's test 1 had every response 400.
BAD_REQUEST_RATIO = 0.5

# App-side p95 latency (django-prometheus, view time). Heroku's "Request Timeout" article asks for
# responses under 500 ms; the seed's healthy run (test 5) averaged 178 ms and a Waitress with 8
# threads here had p95 about 250 ms (FACTS); a collapsed one passed 1 s. So 1 s is clearly broken.
APP_LATENCY_P95_SECONDS = 1.0

# Client-side p95 (Locust, includes time queued in the router): a healthy demo-scale run here
# had p95 600-720 ms with ramp-up included (FACTS); the seed's bad runs averaged 9-14 s. 2 s is
# four times Heroku's 500 ms guidance and well clear of a healthy run on a busy 2-core machine.
CLIENT_LATENCY_P95_SECONDS = 2.0

# Router queue time (X-Request-Start to the app) p95 above 1 s: requests wait longer than they
# take. Heroku's router gives up at 30 s (H12, "HTTP Routing"); 1 s is the early warning, and it
# is below CLIENT_LATENCY_P95_SECONDS so queueing fires before client-side latency does.
ROUTER_QUEUE_P95_SECONDS = 1.0

# Waitress's queue, averaged over the queue window, above one request: every thread busy and
# more waiting most of the time. Not "never empty": a saturated Waitress drains its queue in
# bursts (measured in test 6 here: 0 to 72 and back within seconds), and a GIL-bound process
# shows its saturation as slow threads before a steady queue.
QUEUE_DEPTH_AVERAGE = 1.0

# The Locust process is saturated above 90% CPU: Locust itself warns there, and a saturated
# generator understates the server (FACTS).
LOADGEN_CPU_RATIO = 0.9

# The page cache's hit ratio below 50% with traffic: the cache keeps CACHE_SLOTS random rows
# for 5 minutes, so a working cache answers far above 90% (test 9 here); under half means
# Redis is evicting, restarting or misconfigured, and the database carries the load again.
CACHE_HIT_RATIO_MIN = 0.5

# H12 timeouts, or H13/H18 closed connections, above 1% of a dyno's routed requests: users
# waiting 30 s for an error, or cut off mid-response, not one stray slow request.
HEROKU_ROUTER_ERROR_RATIO = 0.01

# Heroku Redis connections at 80% of the plan's max-connections (its metrics log lines): the
# same margin as DB_CONNECTIONS_WARNING_RATIO. On a plan with 18 connections that is 15:
# one more dyno's worth of threads each holding a connection can reach the limit.
REDIS_CONNECTIONS_WARNING_RATIO = 0.8


# --- Windows and `for:` durations (NORMAL; FAST is derived) --------------------------------


@dataclass(frozen=True)
class Timing:
    """How long a condition must hold, and over which windows, before an alert fires."""

    name: str
    # Connections at 80% for 5 min: a deploy or a burst briefly doubling connections is normal.
    db_connections_warning_for: int = 300
    # At the limit, new connections fail now: 1 min is enough to rule out a scrape blip.
    db_connections_critical_for: int = 60
    # Connection errors counted over 1 min and sustained 2 min: one stray error (whose rate stays
    # above zero for one window) does not page, a stream of them does.
    db_errors_window: int = 60
    db_errors_for: int = 120
    # SRE workbook windows for the burn-rate alert; 2 min `for:` as the mixins do.
    burn_rate_windows: tuple[tuple[int, int, float], ...] = BURN_RATE_WINDOWS
    error_rate_for: int = 120
    # All-400s does not go away by itself: 5 min avoids paging on a short scanner burst.
    bad_request_for: int = 300
    # Latency for 5 min: one slow minute (a cold cache, a deploy) is not an incident.
    latency_for: int = 300
    # The Waitress queue averaged over the window (1 min), then 2 min more: shorter than
    # latency_for, so queueing fires before the latency it causes.
    queue_window: int = 60
    queueing_for: int = 120
    # Down for 1 min: two missed scrapes at the default 30 s interval, not a single one.
    down_for: int = 60
    # CPU above 90% for 1 min: Locust's own warning is per sample; we want it sustained.
    loadgen_for: int = 60
    # Page cache fallbacks counted over 1 min and sustained 2 min: Redis restarting or a
    # failover (seconds) does not page, a Redis gone for minutes does.
    cache_window: int = 60
    cache_failing_for: int = 120
    # Clients waiting for a PgBouncer server connection for 2 min: the pool is too small for
    # the load (a burst queues for milliseconds, not minutes).
    pooler_waiting_for: int = 120
    # Redis connections near the limit for 5 min, as for the database: a deploy briefly
    # doubling connections (old and new dynos) is normal; Heroku logs them every minute or so.
    redis_connections_for: int = 300
    # The router's H codes and the dynos' memory over 5 min, sustained 5 min: Heroku logs
    # runtime metrics about every 20 s, and a deploy's short spike is normal.
    heroku_window: int = 300
    heroku_for: int = 300


NORMAL = Timing(name="normal")

# FAST: a load run lasts about a minute with 2 s scrapes. Windows shrink 30x (1 h -> 2 min) but
# never below 10 s (5 scrapes, so rate() always has samples); `for:` shrinks 15x (5 min -> 20 s)
# within 10-20 s, so every alert still needs 5 or more evaluations in a row to fire.
FAST_WINDOW_DIVISOR = 30
FAST_MIN_WINDOW = 10
FAST_FOR_DIVISOR = 15
FAST_FOR_RANGE = (10, 20)


def _fast_window(seconds: int) -> int:
    return max(FAST_MIN_WINDOW, seconds // FAST_WINDOW_DIVISOR)


def _fast_for(seconds: int) -> int:
    low, high = FAST_FOR_RANGE
    return min(high, max(low, seconds // FAST_FOR_DIVISOR))


def fast(timing: Timing = NORMAL) -> Timing:
    """The same timing shortened for ~1-minute load runs (see FAST_* above)."""
    changes: dict = {"name": "fast"}
    for field in fields(Timing):
        value = getattr(timing, field.name)
        if field.name.endswith("_for"):
            changes[field.name] = _fast_for(value)
        elif field.name.endswith("_window"):
            changes[field.name] = _fast_window(value)
    changes["burn_rate_windows"] = tuple(
        (_fast_window(long), _fast_window(short), burn)
        for long, short, burn in timing.burn_rate_windows
    )
    return replace(timing, **changes)


FAST = fast()
