"""A database that drops the app's connections, or stops answering: a real PostgreSQL of
the module's own, its backends terminated, or its processes frozen with SIGSTOP.

A frozen server's kernel still accepts connections and acknowledges every packet, so nothing
at the TCP level notices (keepalives are answered, nothing stays unacknowledged): only the
app's own deadlines can. Requests are bounded at 25 s so a hang fails instead of waiting.
"""

import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg2
import pytest
import requests

from app import embedded_db
from tests.conftest import ROOT, running_app
from tests.metrics.scrape import parse, total, value

HANG = 25  # seconds: far beyond any bound the app sets, so only a hang reaches it


def server_processes(data_dir: Path) -> list[psutil.Process]:
    """The postmaster (first line of postmaster.pid) and every backend and helper it forked:
    each backend is a session of its own, so signalling the postmaster's group is not enough."""
    pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


@contextmanager
def frozen(data_dir: Path):
    processes = server_processes(data_dir)
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGCONT)


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=HANG)


@pytest.fixture(scope="module")
def own_server():
    """A PostgreSQL for this module alone (it is frozen and its connections killed), shared by
    its tests so that initdb runs once. Unmigrated: /healthz needs no table, and during an
    outage the page fails before it could miss one."""
    data_dir = (ROOT / ".data" / "test-servers" / f"outage-{os.getpid()}").resolve()
    database_url = embedded_db.ensure_server(data_dir)
    yield data_dir, database_url
    embedded_db.stop_server(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def terminate_client_backends(database_url: str) -> None:
    """What a server restart or an idle-session timeout does to the app's connections."""
    others = """
        FROM pg_stat_activity WHERE backend_type = 'client backend'
        AND pid <> pg_backend_pid() AND application_name <> 'cce-metrics'
    """
    # Autocommit: each statement reads pg_stat_activity afresh (a transaction would keep
    # reading its first snapshot).
    admin = psycopg2.connect(database_url.replace("postgres://", "postgresql://"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
            deadline = time.monotonic() + HANG
            while cursor.execute(f"SELECT count(*) {others}") or cursor.fetchone()[0]:
                assert time.monotonic() < deadline, "the backends did not exit"
                time.sleep(0.1)
    finally:
        admin.close()


def test_connections_the_server_dropped_are_not_counted_open(own_server):
    _, database_url = own_server
    with running_app(database_url, WAITRESS_THREADS="4") as app:
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(lambda _: get(f"{app}/healthz").status_code, range(8))) == {200}
        before = parse(get(f"{app}/metrics").text)
        opened = total(before, "django_db_new_connections_total")
        assert value(before, "django_db_connections_open") == opened >= 1

        terminate_client_backends(database_url)
        after = parse(get(f"{app}/metrics").text)
        # The driver has not noticed yet (no request used the connections since), the
        # socket has: none of them is counted.
        assert total(after, "django_db_new_connections_total") == opened
        assert value(after, "django_db_connections_open") == 0

        # The next request's health check finds its connection dead and opens a new one.
        assert get(f"{app}/healthz").status_code == 200
        assert value(parse(get(f"{app}/metrics").text), "django_db_connections_open") == 1


def test_a_frozen_database_gives_503s_and_pg_up_0_and_the_app_recovers_without_restart(
    own_server,
):
    data_dir, database_url = own_server
    # CONN_MAX_AGE=600 (the default) keeps each thread's connection, so every request below
    # meets a kept connection to the frozen server, the case that hung. A 2 s deadline
    # instead of the default 5 s only shortens the test.
    with running_app(database_url, WAITRESS_THREADS="4", DATABASE_TIMEOUT="2") as app:
        for _ in range(8):  # the threads open their connections
            assert get(f"{app}/healthz").status_code == 200
        assert value(parse(get(f"{app}/metrics").text), "pg_up") == 1

        with frozen(data_dir), ThreadPoolExecutor(3) as pool:
            page, health, metrics = pool.map(get, [f"{app}/", f"{app}/healthz", f"{app}/metrics"])
            assert page.status_code == 503
            assert health.status_code == 503
            assert health.text == "Service unavailable: the database is not answering.\n"
            assert metrics.status_code == 200
            assert value(parse(metrics.text), "pg_up") == 0

        # Thawed: the same process serves again, with new connections.
        deadline = time.monotonic() + HANG
        while get(f"{app}/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover"
            time.sleep(0.2)
        assert value(parse(get(f"{app}/metrics").text), "pg_up") == 1
