"""Open connections in the process, and PostgreSQL's own view at the limit and when down."""

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests

from app import embedded_db
from dyno_metrics.postgres import PostgresCollector
from tests.conftest import running_app
from tests.metrics.scrape import scrape, total, value


def collect(collector) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in collector.collect()
        for s in family.samples
    }


def test_open_connections_follow_waitress_threads_with_persistent_connections(seeded):
    with running_app(seeded, WAITRESS_THREADS="4", CONN_MAX_AGE="600") as url:
        gate = threading.Barrier(4)

        def slow_burst(_):
            gate.wait()
            for _ in range(10):
                requests.get(f"{url}/", timeout=5)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(slow_burst, range(4)))
        samples = scrape(url)
        # Each worker thread that served a page keeps its own connection open.
        open_now = value(samples, "django_db_connections_open")
        assert 1 <= open_now <= 4
        opened = total(samples, "django_db_new_connections_total")
        assert open_now == opened, "with CONN_MAX_AGE=600 no connection was closed yet"


def test_open_connections_drop_to_zero_between_requests_without_persistence(seeded):
    with running_app(seeded, WAITRESS_THREADS="4", CONN_MAX_AGE="0") as url:
        for _ in range(12):
            requests.get(f"{url}/", timeout=5)
        samples = scrape(url)
        assert total(samples, "django_db_new_connections_total") >= 12
        assert value(samples, "django_db_connections_open") == 0


@pytest.fixture
def small_server(pg_data_dir):
    """A PostgreSQL of the test's own, capped at 12 connections."""
    url = embedded_db.ensure_server(pg_data_dir, max_connections=12)
    return pg_data_dir, url


def connect_kwargs(url):
    parsed = psycopg2.extensions.parse_dsn(url.replace("postgres://", "postgresql://"))
    return {k: v for k, v in parsed.items() if k in ("host", "port", "user", "dbname")}


def test_the_collector_answers_at_the_connection_limit(small_server):
    _, url = small_server
    collector = PostgresCollector(connect_kwargs(url))
    assert value(collect(collector), "pg_up") == 1  # opens its own connection now
    hogs = []
    try:
        while True:  # fill every remaining slot, as gevent's greenlets did in test 4
            hogs.append(psycopg2.connect(**connect_kwargs(url)))
    except psycopg2.OperationalError as error:
        assert "too many clients" in str(error) or "reserved" in str(error)
    try:
        # Up at the limit: the collector read over the connection it kept (a new one would
        # have been refused, and pg_up would be 0).
        samples = collect(collector)
        assert value(samples, "pg_up") == 1
        assert value(samples, "pg_settings_max_connections") == 12
        in_use = total(samples, "pg_stat_activity_count")
        assert in_use == len(hogs) + 1 == 12, "every slot shows: the hogs and the collector"
    finally:
        for hog in hogs:
            hog.close()


def test_a_stopped_server_gives_pg_up_0_and_recovers(small_server):
    data_dir, url = small_server
    collector = PostgresCollector(connect_kwargs(url))
    assert value(collect(collector), "pg_up") == 1
    embedded_db.stop_server(data_dir)
    samples = collect(collector)
    assert value(samples, "pg_up") == 0
    assert not any(name == "pg_stat_activity_count" for name, _ in samples)
    embedded_db.ensure_server(data_dir)
    assert value(collect(collector), "pg_up") == 1


def test_registration_does_not_connect():
    # describe() is static, so merely registering must not touch the database.
    collector = PostgresCollector({"host": "127.0.0.1", "port": 1, "dbname": "x"})
    names = [family.name for family in collector.describe()]
    assert names == ["pg_up", "pg_stat_activity_count", "pg_settings_max_connections"]
