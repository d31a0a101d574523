"""The server set-ups the seed's tests ran against, each started as real local "dynos".

A set-up is the command line and settings of one dyno; `start_dynos` starts as many as the
scenario asks for, each on its own loopback port with `DYNO=web.N`, as Heroku would.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.dyno_cpu import CpuLimit, cgroup_name
from loadtests.processes import Process, free_port, python_module

# The host name users reach the app by. The router forwards it, as Heroku's does, so
# ALLOWED_HOSTS decides whether the page is served; Prometheus and the sampler scrape each
# dyno at 127.0.0.1 directly.
PUBLIC_HOST = "cce-example.herokuapp.com"
LOCAL_HOSTS = "127.0.0.1,localhost"
# Where the compose stack's Prometheus finds a --grafana run (the targets files the run writes,
# loadtests.compose; the run's own drain receiver stands where a host's `make drain` would).
EXPOSED_FIRST_APP_PORT = 8000
# The name the stack's containers reach the host by (`extra_hosts: host-gateway`).
CONTAINER_HOST = "host.docker.internal"
EXPOSED_EXPORTER_PORT = 9646
EXPOSED_DRAIN_PORT = 8088


@dataclass(frozen=True)
class Setup:
    name: str
    description: str
    # Extra settings, Heroku config-var style.
    env: dict[str, str] = field(default_factory=dict)
    # Whether the app accepts the public host name (False: the seed's test 1).
    page_set_up: bool = True
    # Database connections one process can hold (Waitress threads, gevent worker
    # connections, 1 for a sync worker): the connection budget (loadtests.preflight).
    connections_per_process: int = 8
    # A Redis of the run's own behind the page (REDIS_URL), the seed's next step (test 9).
    cache: bool = False
    # A PgBouncer of the run's own between the dynos and PostgreSQL (test 4b).
    pooler: bool = False

    def command(self, port: int, listen: str = "127.0.0.1") -> list[str]:
        raise NotImplementedError


@dataclass(frozen=True)
class WaitressSetup(Setup):
    def command(self, port: int, listen: str = "127.0.0.1") -> list[str]:
        return python_module("app.serve", "--host", listen, "--port", str(port))


@dataclass(frozen=True)
class GunicornSetup(Setup):
    options: tuple[str, ...] = ()

    def command(self, port: int, listen: str = "127.0.0.1") -> list[str]:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        # The package's gunicorn configuration, as a user's Procfile would name it: counts
        # summed over the workers, and gunicorn's busy workers and listen backlog.
        config = ("-c", "python:dyno_metrics.gunicorn")
        return [gunicorn, "app.wsgi", *config, "--bind", f"{listen}:{port}", *self.options]


# The seed's Waitress had no queue-time budget: a saturated dyno queued (test 6: about 9 s on
# average) where the app's default of 5 s (app/admission.py) would answer 503s instead. The
# seed's set-ups run as the seed ran; what the budget does under overload is measured by
# benchmarks/overload.py.
AS_THE_SEED_RAN = {"QUEUE_TIME_BUDGET": "0"}

# The seed's test 4 worker: one gevent worker, gunicorn's default 1,000 worker connections.
GEVENT_OPTIONS = ("--workers", "1", "-k", "gevent", "--worker-connections", "1000")

SETUPS: dict[str, Setup] = {
    s.name: s
    for s in [
        WaitressSetup(
            "no_page",
            "Waitress, DEBUG off, ALLOWED_HOSTS without the app's host: every answer is 400",
            env=AS_THE_SEED_RAN,
            page_set_up=False,
        ),
        GunicornSetup(
            "gunicorn_sync",
            "gunicorn with its default single sync worker",
            # The seed's "naive settings": one sync worker serves one request at a time.
            options=("--workers", "1"),
            connections_per_process=1,
        ),
        GunicornSetup(
            "gunicorn_gevent",
            "gunicorn, one gevent worker with 1,000 worker connections, CONN_MAX_AGE=600",
            options=GEVENT_OPTIONS,
            # Why the seed's test 4 ran out of connections: gevent's monkey-patching makes
            # Django's per-thread connections per-greenlet, and with CONN_MAX_AGE > 0 (Heroku's
            # Django template sets 600) each greenlet serving a router connection keeps its own
            # database connection open. Without psycogreen, psycopg2 blocks the worker during a
            # query, so with CONN_MAX_AGE=0 only one connection would be open at a time and the
            # symptom would not show; the seed installed gevent alone, and so do we.
            env={"CONN_MAX_AGE": "600"},
            connections_per_process=1000,
        ),
        WaitressSetup(
            "waitress",
            "Waitress with the app's defaults (8 threads), no queue-time budget",
            env=AS_THE_SEED_RAN,
        ),
        WaitressSetup(
            "waitress_redis",
            "Waitress (8 threads) serving the page from a Redis of the run's own",
            env=AS_THE_SEED_RAN,
            cache=True,
        ),
        GunicornSetup(
            "gunicorn_gevent_pgbouncer",
            "test 4's gevent worker behind a PgBouncer of the run's own (transaction pooling)",
            options=GEVENT_OPTIONS,
            # Transaction pooling hands a server connection to a client for one transaction
            # only, so Django must not hold server-side cursors across them (app/settings.py).
            env={"CONN_MAX_AGE": "600", "DATABASE_POOLER": "transaction"},
            connections_per_process=1000,
            pooler=True,
        ),
    ]
}


@dataclass
class Dyno:
    name: str  # web.1, web.2, ...
    port: int
    process: Process
    # The dyno's share of CPU (loadtests.dyno_cpu); None where dynos share the machine's.
    cpu_limit: CpuLimit | None = None
    # The address it listens on: loopback, or with --grafana the Docker bridge's.
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.address}/metrics"


def allowed_hosts(setup: Setup, exposed_on: str | None = None) -> str:
    """A dyno's ALLOWED_HOSTS: the public host name if the set-up serves the page, loopback,
    and with `exposed_on` the names the compose stack's Prometheus and the run's own use to
    scrape it there (without them /metrics answers 400 to both)."""
    allowed = LOCAL_HOSTS if not setup.page_set_up else f"{PUBLIC_HOST},{LOCAL_HOSTS}"
    return f"{allowed},{exposed_on},{CONTAINER_HOST}" if exposed_on else allowed


def start_dynos(
    setup: Setup,
    count: int,
    run_dir: Path,
    database_url: str,
    extra_env: dict | None = None,
    exposed_on: str | None = None,
    cpu_cores: float | None = None,
) -> list[Dyno]:
    """Starts `count` dynos of `setup` and waits until each answers; stops them all on failure.

    `extra_env`: the run's own services (REDIS_URL, METRICS_DATABASE_URL). `exposed_on`: on
    that address (the Docker bridge's, loadtests.compose) and ports 8000, 8001, ..., so the
    compose stack's Prometheus reaches them (`make loadtest GRAFANA=1`). `cpu_cores`: each
    dyno in a cgroup of its own capped at that share of a core, as a Heroku dyno is."""
    allowed = allowed_hosts(setup, exposed_on)
    # DYNO makes the app behave as on Heroku, where SECRET_KEY must be set: one per run.
    secret_key = secrets.token_urlsafe(50)
    dynos: list[Dyno] = []
    try:
        for index in range(1, count + 1):
            port = EXPOSED_FIRST_APP_PORT + index - 1 if exposed_on else free_port()
            name = f"web.{index}"
            env = {
                "DATABASE_URL": database_url,
                "PORT": str(port),
                "DYNO": name,
                "ALLOWED_HOSTS": allowed,
                "DEBUG": "0",
                "METRICS_ENABLED": "1",
                "SECRET_KEY": secret_key,
                # On loopback (or the Docker bridge) for the run's own Prometheus: no token.
                "METRICS_PUBLIC": "1",
                **setup.env,
                **(extra_env or {}),
            }
            listen = exposed_on or "127.0.0.1"
            cpu_limit = CpuLimit(cgroup_name(run_dir.name, name), cpu_cores) if cpu_cores else None
            try:
                process = Process(
                    name, setup.command(port, listen), run_dir / f"{name}.log", env,
                    cpu_limit=cpu_limit,
                )  # fmt: skip
            except BaseException:
                if cpu_limit:
                    cpu_limit.remove()
                raise
            dynos.append(Dyno(name, port, process, cpu_limit, listen))
        for dyno in dynos:
            dyno.process.wait_until_http_ok(f"http://{dyno.address}/healthz")
    except BaseException:
        stop_dynos(dynos)
        raise
    return dynos


def stop_dynos(dynos: list[Dyno]) -> None:
    for dyno in dynos:
        dyno.process.stop()
        if dyno.cpu_limit:
            dyno.cpu_limit.remove()
