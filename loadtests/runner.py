"""One load test, start to finish: database, dynos, router and its drain, Prometheus, Locust,
summary.

Everything it starts it stops again, in reverse order, also on Ctrl-C and on errors.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dashboards.report import screenshot, write_report
from loadtests import (
    compose,
    distributed,
    dyno_cpu,
    fixes,
    lifeline,
    logplex,
    preflight,
    prometheus,
    router,
    routerview,
    sampler,
    services,
    summary,
)
from loadtests.processes import (
    NO_REDIRECTS,
    Process,
    StartFailed,
    free_port,
    port_is_free,
    python_module,
    stop_all,
)
from loadtests.redis_server import Outage
from loadtests.scenarios import USERS_PER_LOCUST_PROCESS, Scenario
from loadtests.setups import (
    EXPOSED_DRAIN_PORT,
    EXPOSED_EXPORTER_PORT,
    EXPOSED_FIRST_APP_PORT,
    PUBLIC_HOST,
    SETUPS,
    start_dynos,
    stop_dynos,
)
from loadtests.user_requests import UserRequests

ROOT = Path(__file__).resolve().parent.parent
# On Heroku the load generator runs on other machines than the dynos; here it shares their
# cores, so it runs at a lower priority and the dynos get the CPU first. Locust's own CPU
# figure (locust_cpu_usage_ratio) still says when it is short of CPU itself.
LOCUST_NICENESS = 10
# Locust gets this long beyond the scenario's duration to ramp down and write its files.
LOCUST_GRACE_S = 120


class BadArgument(ValueError):
    """A user error: printed as one line, exit status 2."""


@dataclass
class RunOptions:
    scenario: Scenario  # already scaled
    runs_root: Path
    host: str | None = None
    workers: int = 0
    # --redis-outage START:END: seconds from the load's start (test 9 and other cache set-ups).
    redis_outage: tuple[int, int] | None = None
    # The deployed app's shape for the --host connection budget (--dynos, --threads).
    host_dynos: int | None = None
    host_threads: int | None = None
    # --grafana: the dynos, the exporter and the drain receiver on fixed ports and the Docker
    # bridge's address, for the compose stack's Prometheus (loadtests.compose); --show-page:
    # print one page through the router first (make demo).
    grafana: bool = False
    show_page: bool = False
    # Each local dyno's share of CPU, in cores (loadtests.dyno_cpu): None sizes it to this
    # machine (dyno_cpu.sized_cores), 0 leaves the dynos the whole machine.
    dyno_cpu: float | None = None
    # --drain: with --host, the /metrics URL of the drain receiver the app's log drain feeds.
    drain: str | None = None
    # --remote-workers: Locust workers on other machines (loadtests.distributed), connecting
    # to the master at --master-bind (default: every address, Locust's port), waited for this long.
    remote_workers: int = 0
    master_bind: tuple[str, int] | None = None
    workers_wait_s: float = distributed.DEFAULT_WAIT_S
    # --path, --method, --header, --expect-*, --scenario-file: what each user asks for.
    requests: UserRequests = field(default_factory=UserRequests)
    # --router: which of Heroku's routers the local stand-in models (router.ROUTERS).
    router: str = router.DEFAULT_ROUTER


def locust_workers(users: int) -> int:
    """Locust processes a load needs: one up to USERS_PER_LOCUST_PROCESS, then a worker each."""
    return 0 if users <= USERS_PER_LOCUST_PROCESS else math.ceil(users / USERS_PER_LOCUST_PROCESS)


def new_run_dir(runs_root: Path, test: str) -> Path:
    """runs/<UTC timestamp>-test<N>, never one that exists."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs_root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 100):
        suffix = "" if attempt == 1 else f"-{attempt}"
        run_dir = runs_root / f"{stamp}-test{test}{suffix}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a new run folder in {runs_root}")


def check_reachable(host: str, requests: UserRequests) -> None:
    """The first declared path answers; a redirect the run would count as failures stops it
    here with the target and the fix."""
    url = host.rstrip("/") + requests.paths[0].path
    ask = urllib.request.Request(url, method=requests.method, headers=requests.headers)
    try:
        NO_REDIRECTS.open(ask, timeout=10).close()
    except urllib.error.HTTPError as answer:
        if 300 <= answer.code < 400 and answer.code != requests.expect_status:
            location = answer.headers.get("Location")
            raise BadArgument(redirect_advice(url, answer.code, location)) from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise BadArgument(f"cannot reach {host}: {reason}") from None


def redirect_advice(url: str, status: int, location: str | None) -> str:
    """One line: where `url` redirects, and what to give the run instead."""
    if not location:
        return f"{url} answers {status}, a redirect without a Location: fix the app's answer"
    target = urllib.parse.urljoin(url, location)
    asked, moved = urllib.parse.urlsplit(url), urllib.parse.urlsplit(target)
    if (asked.scheme, asked.netloc) != (moved.scheme, moved.netloc):
        fix = (
            f"give --host {moved.scheme}://{moved.netloc}, or turn the redirect off for the test "
            "(Django: SECURE_SSL_REDIRECT=False)"
        )
    else:
        fix = f"give --path {moved.path}"
    return (
        f"{url} redirects ({status}) to {target}, and the run does not follow redirects (each "
        f"would count as a failure of kind redirect): {fix}, or --expect-status {status} to "
        "measure the redirect itself"
    )


def check_drain(url: str) -> None:
    try:
        routerview.read(url)
    except routerview.DrainUnreadable as error:
        raise BadArgument(f"--drain: {error}") from None


def locust_processes(
    options: RunOptions, run_dir: Path, target: str, exporter: tuple[str, int]
) -> list[Process]:
    """Locust headless: one process, or a master and `workers` worker processes."""
    scenario = options.scenario
    common = ["-f", str(ROOT / "loadtests" / "locustfile.py")]
    master = [
        *common,
        "--headless",
        "--host", target,
        "--csv", str(run_dir / "locust"),
        "--csv-full-history",
        "--only-summary",
        "--logfile", str(run_dir / "locust.log"),
        "--scenario", scenario.test,
        "--scenario-users", str(scenario.users),
        "--scenario-duration", str(scenario.duration_s),
        "--user-requests", options.requests.to_json(),
        "--exporter-port", str(exporter[1]),
        "--exporter-address", exporter[0],
        "--final-json", str(run_dir / "locust_final.json"),
    ]  # fmt: skip
    expected_workers = options.workers + options.remote_workers
    if not expected_workers:
        return [
            Process(
                "locust",
                python_module("locust", *master),
                run_dir / "locust.out",
                niceness=LOCUST_NICENESS,
            )
        ]
    bind_host, master_port = master_address(options)
    every_address = bind_host in distributed.EVERY_ADDRESS
    master += [
        "--master",
        "--master-bind-host", "*" if every_address else bind_host,
        "--master-bind-port", str(master_port),
        "--expect-workers", str(expected_workers),
        "--workers-file", str(run_dir / distributed.WORKERS_FILE),
    ]  # fmt: skip
    processes = [
        Process(
            "locust master",
            python_module("locust", *master),
            run_dir / "locust.out",
            niceness=LOCUST_NICENESS,
        )
    ]
    for index in range(1, options.workers + 1):
        worker = [
            *common,
            "--worker",
            "--master-host",
            "127.0.0.1" if every_address else bind_host,
            "--master-port",
            str(master_port),
        ]
        processes.append(
            Process(
                f"locust worker {index}",
                python_module("locust", *worker),
                run_dir / f"locust-worker-{index}.out",
                niceness=LOCUST_NICENESS,
            )
        )
    return processes


def start_servers(
    stack: contextlib.ExitStack,
    scenario: Scenario,
    run_dir: Path,
    exposed_on: str | None = None,
    cpu_cores: float | None = None,
    listen: str = "127.0.0.1",
    router_model: str = router.DEFAULT_ROUTER,
):
    """The capped database, the set-up's services, the dynos (each on `cpu_cores` of CPU),
    the router (on `listen`, as `router_model`) and its drain (with `exposed_on`, the dynos and
    the drain on that address and the fixed ports); returns the router's URL, the dynos, the
    services and the drain."""
    from loadtests.database import ScenarioDatabase

    database = ScenarioDatabase(scenario.db_max_connections, run_dir / "database.log")
    stack.callback(database.stop)
    setup = SETUPS[scenario.setup]
    beside = services.start(stack, setup, run_dir, database.url)
    dynos = start_dynos(
        setup, scenario.dynos, run_dir, database.url, beside.env, exposed_on, cpu_cores
    )
    stack.callback(stop_dynos, dynos)
    router_port = free_port()
    proxy = router.start(
        run_dir, router_port, [d.address for d in dynos], PUBLIC_HOST, listen, model=router_model
    )
    stack.callback(proxy.stop)
    target = f"http://{listen}:{router_port}"
    proxy.wait_until_http_ok(target)
    names = {dyno.address: dyno.name for dyno in dynos}
    drain = logplex.start(stack, run_dir, run_dir / router.ACCESS_LOG, names, exposed_on)
    return target, dynos, beside, drain


def show_page(target: str) -> None:
    """One page, as a user gets it through the router: what the load test will ask for."""
    with urllib.request.urlopen(f"{target}/", timeout=10) as response:
        body = response.read().decode()
        kind = response.headers["Content-Type"]
    print(f"The page ({len(body)} characters, {kind}, from PostgreSQL through Waitress):")
    print(f"  {body}")


def start_locust(
    stack: contextlib.ExitStack,
    options: RunOptions,
    run_dir: Path,
    target: str,
    exporter: tuple[str, int],
) -> Process:
    """Starts Locust and, in distributed mode, waits for its workers; returns the master (or
    the only process), which starts the load within a second."""
    processes = locust_processes(options, run_dir, target, exporter)
    for process in reversed(processes):
        stack.callback(process.stop)
    master = processes[0]
    expected = options.workers + options.remote_workers
    if expected:
        hint = f"see {run_dir}/locust.log"
        if options.remote_workers:
            hint = f"on each load machine run: {remote_worker_command(options)}"
            waiting = f"Waiting {options.workers_wait_s:g} s at most for {expected} Locust workers"
            print(f"{waiting} (load to {target}); {hint}")
        distributed.wait_for_workers(master, run_dir, expected, options.workers_wait_s, hint)
    return master


def master_address(options: RunOptions) -> tuple[str, int]:
    """Where Locust's master listens for workers: --master-bind; for workers on other machines
    every address on Locust's port by default, for local ones loopback on a free port."""
    if options.master_bind:
        return options.master_bind
    if options.remote_workers:
        return distributed.EVERY_ADDRESS[0], distributed.DEFAULT_MASTER_PORT
    return "127.0.0.1", free_port()


def remote_worker_command(options: RunOptions) -> str:
    host, port = master_address(options)
    if host in distributed.EVERY_ADDRESS:
        host = "THIS_MACHINE"
    return f"{distributed.worker_command(host, port)} (port {port} open to them here)"


def check_remote_workers(options: RunOptions) -> str:
    """Before anything starts: the master's port is free, and the local router has an address
    the workers reach (the master's); returns where the router listens."""
    if not options.remote_workers:
        return "127.0.0.1"
    host, port = master_address(options)
    if not port_is_free(port):
        raise StartFailed(
            f"port {port} for the Locust workers is taken here (another run?): "
            "choose another with --master-bind ADDR:PORT"
        )
    if host in distributed.EVERY_ADDRESS and not options.host:
        raise BadArgument(
            "--remote-workers against the local app: give --master-bind ADDR:PORT with the "
            "address the workers reach this machine at (the router listens there too)"
        )
    return host


def finish_locust(options: RunOptions, run_dir: Path, master: Process) -> None:
    """Runs Locust to the end of the scenario; its figures are in locust_final.json."""
    master.wait(timeout=options.scenario.duration_s + LOCUST_GRACE_S)
    if not (run_dir / "locust_final.json").exists():
        raise RuntimeError(f"Locust exited ({master.poll()}) without results; see {run_dir}")


def check_exposed_ports_free(dynos: int) -> None:
    """--grafana's fixed ports must be free before anything starts (a `make drain` on 8088, an
    earlier run's leftovers)."""
    ports = [EXPOSED_FIRST_APP_PORT + index for index in range(dynos)]
    taken = [p for p in [*ports, EXPOSED_EXPORTER_PORT, EXPOSED_DRAIN_PORT] if not port_is_free(p)]
    if taken:
        raise StartFailed(
            f"--grafana needs ports {', '.join(map(str, taken))}, which something already holds "
            "(a `make drain` on 8088?): stop it, or run without --grafana"
        )


def dyno_cpu_cores(options: RunOptions) -> tuple[float | None, str | None]:
    """The CPU each local dyno gets, and why it is not capped when it cannot be."""
    if options.host or options.dyno_cpu == 0:
        return None, None
    try:
        dyno_cpu.remove_stale()
    except dyno_cpu.Unavailable as reason:
        return None, (
            f"dynos not CPU-capped ({reason}): each may use the whole machine, unlike a Heroku "
            "dyno, so tests 3 and 6 to 9 may need a larger --scale to show their symptom"
        )
    return options.dyno_cpu or dyno_cpu.sized_cores(), None


def dyno_cpu_use(dynos, before: dict, seconds: float) -> dict[str, dict]:
    """Each capped dyno during the load: cores used, and the share of time held at its quota."""
    use = {}
    for dyno in dynos:
        if dyno.cpu_limit:
            during = dyno.cpu_limit.use(dyno.process.pid) - before[dyno.name]
            use[dyno.name] = {
                "used_cores": round(during.cpu_s / seconds, 3),
                "held_share": round(during.held_share, 3),
            }
    return use


def database_figures(prom, run_dir: Path, started: float, ended: float):
    """Queries per second and the most connections: from Prometheus, else from the samples."""
    if prom:
        return prom.database_figures(started, ended)
    samples = sampler.read_samples(run_dir / "samples.jsonl")
    return sampler.db_queries_per_second(samples), sampler.max_db_connections(samples)


def run(options: RunOptions) -> Path:
    """Runs the scenario, writes runs/<run-id>/, prints the summary; returns the run folder."""
    scenario = options.scenario
    if options.redis_outage and options.host:
        raise BadArgument("--redis-outage stops the run's own Redis: not with --host")
    if options.redis_outage and not SETUPS[scenario.setup].cache:
        raise BadArgument(
            f"--redis-outage needs a test with a Redis cache (test {scenario.test} has none)"
        )
    if options.drain and not options.host:
        raise BadArgument("--drain reads a deployed app's drain: use it with --host")
    if options.host and options.router != router.DEFAULT_ROUTER:
        raise BadArgument("--router picks the local router's model; a --host app has Heroku's own")
    if options.host:
        check_reachable(options.host, options.requests)
    if options.drain:
        check_drain(options.drain)
    if options.grafana:
        check_exposed_ports_free(scenario.dynos)
    router_listen = check_remote_workers(options)
    run_dir = new_run_dir(options.runs_root, scenario.test)
    cpu_cores, not_capped = dyno_cpu_cores(options)
    as_run = scenario.as_dict() | {
        "host": options.host,
        "locust_workers": options.workers,
        "locust_remote_workers": options.remote_workers,
        "dyno_cpu_cores": cpu_cores,
        "user_requests": None if options.requests.is_seed else asdict(options.requests),
        "router_model": None if options.host else options.router,
    }
    (run_dir / "scenario.json").write_text(json.dumps(as_run, indent=2))
    print(f"Test {scenario.test}: {scenario.users:,} users, {scenario.duration_s} s -> {run_dir}")
    budget = (
        preflight.host_budget(options.host_dynos, options.host_threads, scenario.db_max_connections)
        if options.host
        else preflight.scenario_budget(scenario).line()
    )
    print(budget)
    if not_capped:
        print(not_capped)
    elif cpu_cores:
        sized = " (sized to this machine)" if options.dyno_cpu is None else ""
        print(f"Each dyno: {cpu_cores:g} of a core{sized}")
    if not options.host:
        print(f"Router: {router.describe(options.router)}")
    exposed_on = None
    if options.grafana:
        exposed_on, not_on_bridge = compose.listen_address()
        if not_on_bridge:
            print(not_on_bridge)
    # The lifeline stops what the run started should the runner die; stop_all, the last of
    # the ordered stops, whatever an interrupt caught before it was handed to them.
    with lifeline.held(run_dir / "lifeline.log"), contextlib.ExitStack() as stack:
        stack.callback(stop_all)
        target, dynos, beside, drain = (
            (options.host, [], services.Services(env={}), None)
            if options.host
            else start_servers(
                stack, scenario, run_dir, exposed_on, cpu_cores, router_listen, options.router
            )
        )
        if options.show_page:
            show_page(target)
        exporter = (exposed_on, EXPOSED_EXPORTER_PORT) if exposed_on else ("127.0.0.1", free_port())
        if exposed_on:
            ports = {dyno.name: dyno.port for dyno in dynos}
            files = compose.write_targets(compose.targets(ports, exporter[1], drain is not None))
            stack.callback(compose.remove_targets, files)
        # Against --host it watches the load generator alone: the report's Load test
        # dashboard, by path, and the alerts that read Locust's series.
        prom, no_prometheus = None, None
        if not prometheus.binary():
            no_prometheus = prometheus.HOW_TO_INSTALL
        if not no_prometheus:
            prom = prometheus.RunPrometheus(
                run_dir,
                [d.address for d in dynos],
                [f"{exporter[0]}:{exporter[1]}"],
                beside.scrape_jobs | ({"drain": [drain.address]} if drain else {}),
            )
            stack.callback(prom.stop)
        metrics_sampler = sampler.MetricsSampler(
            {d.name: d.metrics_url for d in dynos} | beside.sampled, run_dir / "samples.jsonl"
        )
        metrics_sampler.start()
        stack.callback(metrics_sampler.stop)

        outage = None
        if options.redis_outage:
            outage = Outage(beside.redis, *options.redis_outage)
            stack.callback(outage.cancel)
        watch = None
        if drain:
            watch = routerview.RouterWatch(drain.metrics_url, drain.logplex)
        elif options.drain:
            watch = routerview.RouterWatch(options.drain)
        if watch:
            watch.start()
        locust = start_locust(stack, options, run_dir, target, exporter)
        started = time.time()
        cpu_before = {d.name: d.cpu_limit.use(d.process.pid) for d in dynos if d.cpu_limit}
        if outage:
            outage.begin()
        finish_locust(options, run_dir, locust)
        ended = time.time()
        cpu_use = dyno_cpu_use(dynos, cpu_before, ended - started)
        alerts = []
        if prom:
            if dynos:
                time.sleep(2 * prometheus.SCRAPE_INTERVAL_S)  # the dynos' state after the load
            alerts = prom.alerts_during(started, time.time())
        metrics_sampler.stop()
        queries, connections = database_figures(prom, run_dir, started, ended)

        result = summary.build(scenario, options.requests, run_dir, alerts, queries, connections)
        result |= {"started": started, "ended": ended, "host": options.host}
        if options.workers or options.remote_workers:
            result["locust_workers"] = distributed.summary_figures(run_dir, started)
        result["router_model"] = None if options.host else options.router
        result["connection_budget"] = budget
        result["dyno_cpu"] = {
            "cores": cpu_cores,
            "sized_to_host": bool(cpu_cores) and options.dyno_cpu is None,
            "dynos": cpu_use,
            "note": not_capped,
        }
        if cpu_use and result["requests"]:
            # What a request costs the dynos: the figure a cache or a leaner stack must lower.
            cpu_s = sum(d["used_cores"] for d in cpu_use.values()) * (ended - started)
            result["dyno_cpu"]["ms_per_request"] = round(1000 * cpu_s / result["requests"], 3)
        result |= fixes.figures(scenario, run_dir, started, ended, outage)
        if watch:
            result["router"] = watch.finish(result["requests"])
        if scenario.compare_with:
            partner = summary.latest_summary(options.runs_root, scenario.compare_with, run_dir)
            if partner:
                result["comparison"] = summary.comparison(result, *partner)
        text = (
            summary.text(result)
            + distributed.text(result)
            + routerview.text(result)
            + fixes.text(result)
            + summary.alerts_text(alerts, no_prometheus)
        )
        summary.save(run_dir, result, text)
        print(text, end="")
        # The report reads the run's Prometheus, so it is written before that stops.
        report = write_report(
            run_dir,
            prom.url if prom else None,
            started,
            ended,
            result,
            result["alerts"],
            prometheus.SCRAPE_INTERVAL_S,
        )
        if shutil.which("chromium"):
            screenshot(report, run_dir / "report.png")
        print(f"Report: {report}")
    return run_dir
