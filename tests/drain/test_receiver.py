"""Real-format Heroku lines posted over HTTP to a real receiver: the series it exports."""

import pytest

from dyno_metrics import l2met
from metrics.drain.frames import frame
from tests.drain.helpers import fixture_messages, value

MB = 1048576


@pytest.fixture
def fed(serve_app):
    """A receiver that has read the fixture batch once, and its scrape."""
    receiver, _ = serve_app(env={"DRAIN_PG_MAX_CONNECTIONS": "20"})
    body = b"".join(frame(message) for message in fixture_messages())
    assert receiver.post(body, frame_id="09C557EAFCFB6CF2740EE62F62971098") == 204
    return receiver.scrape()


def test_router_lines_count_requests_by_dyno_status_and_code(fed):
    requests = {
        labels: count
        for (name, labels), count in fed.items()
        if name == "heroku_router_requests_total"
    }
    expected = {
        ("web.1", "200", ""): 1,
        ("web.2", "200", ""): 2,  # a legacy line and a Router 2.0 line
        ("web.1", "400", ""): 1,
        ("web.1", "503", "H12"): 1,
        ("web.2", "503", "H13"): 1,
        ("web.1", "200", "H18"): 1,
        ("", "503", "H10"): 1,  # no dyno on H10 lines
        ("web.2", "499", "H27"): 1,
    }
    assert requests == {
        (("code", code), ("dyno", dyno), ("status", status)): count
        for (dyno, status, code), count in expected.items()
    }


def test_router_times_are_histograms_by_dyno(fed):
    service = "heroku_router_service_seconds"
    assert value(fed, f"{service}_count", dyno="web.1") == 4
    assert value(fed, f"{service}_sum", dyno="web.1") == pytest.approx(0.012 + 0.003 + 30 + 0.71)
    assert value(fed, f"{service}_bucket", dyno="web.1", le="0.005") == 1
    assert value(fed, f"{service}_bucket", dyno="web.1", le="30.0") == 4
    assert value(fed, f"{service}_sum", dyno="web.2") == pytest.approx(0.048 + 0.23 + 5.12 + 0.002)
    assert value(fed, "heroku_router_connect_seconds_sum", dyno="web.2") == pytest.approx(0.001)
    assert value(fed, "heroku_router_connect_seconds_count", dyno="") is None


def test_runtime_metrics_give_memory_in_bytes_load_and_errors(fed):
    assert value(fed, "heroku_dyno_memory_total_bytes", dyno="web.1") == pytest.approx(590.29 * MB)
    assert value(fed, "heroku_dyno_memory_rss_bytes", dyno="web.1") == pytest.approx(429.68 * MB)
    assert value(fed, "heroku_dyno_memory_cache_bytes", dyno="web.1") == pytest.approx(0.48 * MB)
    assert value(fed, "heroku_dyno_memory_swap_bytes", dyno="web.1") == pytest.approx(160.12 * MB)
    assert value(fed, "heroku_dyno_memory_quota_bytes", dyno="web.2") == 512 * MB
    load = {
        w: value(fed, "heroku_dyno_load_average", dyno="web.1", window=w)
        for w in ["1m", "5m", "15m"]
    }
    assert load == {"1m": 2.46, "5m": 1.06, "15m": 0.99}
    assert value(fed, "heroku_dyno_errors_total", dyno="web.1", code="R14") == 1
    assert value(fed, "heroku_dyno_load_average", dyno="web.2", window="1m") is None


def test_postgres_and_pgbouncer_samples_are_gauges_by_addon(fed):
    db = {"addon": "postgresql-curved-12345", "source": "DATABASE"}
    assert value(fed, "heroku_postgres_active_connections", **db) == 14
    assert value(fed, "heroku_postgres_waiting_connections", **db) == 1
    assert value(fed, "heroku_postgres_table_cache_hit_ratio", **db) == 0.99892
    assert value(fed, "heroku_postgres_index_cache_hit_ratio", **db) == 0.99971
    assert value(fed, "heroku_postgres_db_size_bytes", **db) == 18032824
    assert value(fed, "heroku_postgres_max_connections", **db) is None  # not in this line
    assert value(fed, "heroku_postgres_plan_max_connections") == 20
    pool = {"addon": "postgresql-curved-12345", "source": "pgbouncer"}
    assert value(fed, "heroku_pgbouncer_client_active_connections", **pool) == 56
    assert value(fed, "heroku_pgbouncer_client_waiting_connections", **pool) == 2
    assert value(fed, "heroku_pgbouncer_server_active_connections", **pool) == 9
    assert value(fed, "heroku_pgbouncer_server_idle_connections", **pool) == 7


def test_heroku_redis_samples_are_gauges_by_addon(fed):
    redis = {"addon": "redis-curved-12345", "source": "REDIS"}
    assert value(fed, "heroku_redis_active_connections", **redis) == 4
    assert value(fed, "heroku_redis_max_connections", **redis) == 18
    assert value(fed, "heroku_redis_hit_ratio", **redis) == 0.97561
    assert value(fed, "heroku_redis_evicted_keys", **redis) == 3
    assert value(fed, "heroku_redis_memory_bytes", **redis) == 5116080


def test_router_protocols_are_counted_for_the_whole_app(fed):
    protocols = {
        (dict(labels)["protocol"], dict(labels)["tls_version"]): count
        for (name, labels), count in fed.items()
        if name == "heroku_router_protocol_requests_total"
    }
    # Legacy lines say http/https; Router 2.0 lines say http1.1 with their TLS version.
    assert protocols == {
        ("https", ""): 6,
        ("http1.1", "tls1.3"): 1,
        ("http1.1", "none"): 1,
        ("http1.1", "unknown"): 1,
    }


def test_app_sample_lines_become_per_dyno_gauges(fed):
    assert value(fed, "heroku_app_waitress_queue_depth", dyno="web.1") == 3
    assert value(fed, "heroku_app_waitress_queue_depth", dyno="web.2") == 0
    assert value(fed, "heroku_app_waitress_threads_busy", dyno="web.1") == 8
    assert value(fed, "heroku_app_waitress_threads", dyno="web.2") == 8
    assert value(fed, "heroku_app_django_db_connections_open", dyno="web.2") == 3


def test_a_gunicorn_dynos_line_becomes_its_gauges(serve_app):
    # As gunicorn's arbiter prints it (dyno_metrics/gunicorn_arbiter.py, l2met.py's format).
    samples = {
        "gunicorn_workers": 3,
        "gunicorn_requests_active": 2,
        "gunicorn_requests_limit": 3,
        "django_db_connections_open": 3,
        "listen_queue_depth": 1,
    }
    message = (
        f"<190>1 2026-11-26T21:00:06.000000+00:00 host app web.1 - {l2met.line('web.1', samples)}"
    )
    receiver, _ = serve_app()
    assert receiver.post(frame(message)) == 204
    fed = receiver.scrape()
    assert {name: value(fed, f"heroku_app_{name}", dyno="web.1") for name in samples} == samples


def test_receiver_counts_what_it_read(fed):
    parsed = {
        dict(labels)["kind"]: count
        for (name, labels), count in fed.items()
        if name == "heroku_drain_lines_parsed_total"
    }
    assert parsed == {
        "router": 9,
        "runtime_memory": 2,
        "runtime_load": 1,
        "dyno_error": 1,
        "postgres": 1,
        "pgbouncer": 1,
        "redis": 1,
        "app": 2,
    }
    # "Process running", an access log line and a state change: read past, counted.
    assert value(fed, "heroku_drain_lines_unparsed_total", kind="other") == 3
    assert value(fed, "heroku_drain_batches_received_total") == 1
    assert value(fed, "heroku_drain_frames_received_total") == 21
    assert value(fed, "heroku_drain_frames_malformed_total") == 0
    assert value(fed, "heroku_drain_batches_count_mismatch_total") == 0
    assert value(fed, "heroku_drain_dynos") == 3  # web.1, web.2 and the router's "" dyno
