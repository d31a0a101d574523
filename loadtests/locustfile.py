"""The seed's users: each asks for the page at the seed's pace and checks the answer.

Run through `python -m loadtests run --test N` (which starts the server set-up), or by hand
from the repository root, e.g. against a deployed app:

    python -m locust -f loadtests/locustfile.py --headless --host https://APP.herokuapp.com \
        --scenario 5 --scale 0.1 --scenario-duration 60
"""

import locust  # noqa: F401, I001 - first: Locust monkey-patches the standard library with gevent

import json
import random
import time
import urllib.request
from pathlib import Path

import gevent
from locust import FastHttpUser, LoadTestShape, events, task
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from loadtests import exporter, scenarios, workerwatch
from loadtests.failures import EXPECTED_BODY_CHARS, kind_of_error, kind_of_status, message_text

# Share of the run spent ramping users up: long enough that spawning stays smooth, short
# enough that most of the run is at full load.
RAMP_SHARE = 0.15
# When Locust's master quits it waits 0.5 s for the workers' last reports (locust#1426), and
# on a busy machine they came later: a run's last seconds of requests went uncounted (the
# router's view showed 380 more than Locust). So in distributed mode the users stop first and
# the master holds for two report intervals, long enough for every worker to report them.
FINAL_REPORT_S = 2 * WORKER_REPORT_INTERVAL


@events.init_command_line_parser.add_listener
def add_scenario_arguments(parser):
    """Runs on the master and on every worker (workers also get the master's values)."""
    parser.add_argument("--scenario", default="5", help="the seed's test (1 to 8)")
    parser.add_argument("--scale", type=float, default=None, help="default: the test's own")
    parser.add_argument("--scenario-duration", type=int, default=None, help="seconds")
    parser.add_argument("--scenario-users", type=int, default=None, help="exact user count")
    parser.add_argument("--exporter-port", type=int, default=0, help="0: no exporter")
    parser.add_argument("--exporter-address", default="127.0.0.1")
    parser.add_argument(
        "--final-json", default=None, help="where to write the exporter's last scrape at exit"
    )
    workerwatch.add_arguments(parser)


def scenario_of(environment) -> scenarios.Scenario:
    options = environment.parsed_options
    return scenarios.get(options.scenario).scaled(
        options.scale, options.scenario_duration, options.scenario_users
    )


events.init.add_listener(lambda environment, **_kwargs: workerwatch.watch(environment))


@events.init.add_listener
def start_exporter(environment, **_kwargs):
    """Runs on the master (or the only process): workers' figures reach it in their reports."""
    options = environment.parsed_options
    if isinstance(environment.runner, WorkerRunner) or not options or not options.exporter_port:
        return
    collector = exporter.serve(
        environment,
        scenario_of(environment).label,
        options.exporter_port,
        options.exporter_address,
    )

    busiest = {"cpu_usage_max_ratio": 0.0}

    def snapshot_every_second():
        while True:
            collector.snapshot()
            busiest["cpu_usage_max_ratio"] = max(
                busiest["cpu_usage_max_ratio"], collector.cpu_usage_ratio()
            )
            gevent.sleep(1)

    gevent.spawn(snapshot_every_second)

    @environment.events.quitting.add_listener
    def write_final_figures(**_kwargs):
        """After the last worker report and before exit: Locust's own totals, and the
        exporter's answer over HTTP at the same moment, so the two can be checked."""
        if options.final_json:
            url = f"http://{options.exporter_address}:{options.exporter_port}/metrics"
            with urllib.request.urlopen(url, timeout=10) as answer:
                scrape = answer.read().decode()
            final = {"locust": totals(environment.runner.stats), "exporter_scrape": scrape}
            Path(options.final_json).write_text(json.dumps(final | busiest, indent=2))


def totals(stats) -> dict:
    """Locust's aggregated figures for the whole run, failures by the message they carry."""
    total = stats.total
    return {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "avg_ms": total.avg_response_time,
        "p95_ms": total.get_response_time_percentile(0.95) if total.num_requests else None,
        "max_ms": total.max_response_time,
        "errors": {
            message_text(str(error.error)): error.occurrences for error in stats.errors.values()
        },
    }


class SeedUser(FastHttpUser):
    """One of the seed's users: a request every `pacing_s` seconds.

    This is Locust's constant pacing on a random phase. `constant_pacing` counts the period
    from the user's spawn, so every user's second request would fall within the few seconds
    of the ramp; here each user starts at a random point of its first period and keeps that
    rhythm, so the offered load is even. A response slower than the period makes the next
    request start at once: an overloaded server slows the offered load, as in the seed.
    """

    # A user waits this long for an answer; Heroku's router (and ours) gives up after 30 s.
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        self._pacing_s = scenario_of(self.environment).pacing_s
        self._next_start = time.monotonic() + random.uniform(0, self._pacing_s)
        gevent.sleep(self._next_start - time.monotonic())

    def wait_time(self):
        self._next_start = max(self._next_start + self._pacing_s, time.monotonic())
        return self._next_start - time.monotonic()

    @task
    def read_the_page(self):
        with self.client.get("/", catch_response=True) as response:
            if response.status_code == 0:
                response.failure(
                    f"{kind_of_error(response.error)}: {type(response.error).__name__}"
                )
            elif response.status_code >= 500:
                # The first line tells the router's H12 from the app's "database is not
                # answering"; both are bounded texts.
                reason = (response.text or "").strip().split("\n")[0][:80]
                response.failure(f"{kind_of_status(response.status_code)}: {reason}")
            elif response.status_code != 200:
                response.failure(kind_of_status(response.status_code))
            elif len(response.text or "") != EXPECTED_BODY_CHARS:
                response.failure("bad_body")


class SeedShape(LoadTestShape):
    """Ramps to the scenario's users over the first RAMP_SHARE of the run, holds, then stops."""

    def tick(self):
        scenario = scenario_of(self.runner.environment)
        run_time = self.get_run_time()
        if run_time >= scenario.duration_s:
            waits_for_reports = isinstance(self.runner, MasterRunner)
            if waits_for_reports and run_time < scenario.duration_s + FINAL_REPORT_S:
                # Every user stops in one step (Locust's log warns of the high "spawn rate";
                # a lower one would stop them over many seconds of extra load).
                return 0, scenario.users
            return None
        spawn_rate = scenario.users / max(1.0, RAMP_SHARE * scenario.duration_s)
        return scenario.users, spawn_rate
