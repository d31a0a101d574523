"""The page from a real Redis: the database read only on a miss, and Redis going away."""

import signal
import time

import psutil
import requests

from tests.conftest import running_app
from tests.metrics.scrape import scrape, total, value

QUERIES = "django_db_execute_total"


def get_pages(url: str, count: int) -> list[requests.Response]:
    session = requests.Session()
    return [session.get(f"{url}/", timeout=5) for _ in range(count)]


def cache_counts(url: str) -> tuple[float, float, float]:
    samples = scrape(url)
    return (
        total(samples, "django_cache_get_hits_total"),
        total(samples, QUERIES),
        value(samples, "page_cache_fallbacks_total", reason="error")
        + value(samples, "page_cache_fallbacks_total", reason="skipped"),
    )


def test_the_database_is_read_only_on_a_miss(seeded, redis_server):
    with running_app(seeded, REDIS_URL=redis_server.url, CACHE_SLOTS="20") as url:
        hits_before, queries_before, _ = cache_counts(url)
        pages = get_pages(url, 300)
        hits, queries, fallbacks = cache_counts(url)
    assert {(p.status_code, len(p.text)) for p in pages} == {(200, 140)}
    assert len({p.text for p in pages}) > 10
    # A miss costs the row's query and Django's health check of a reused connection.
    assert queries - queries_before <= 2 * 20, "database reads only for the 20 slots"
    assert hits - hits_before >= 280
    assert fallbacks == 0


def test_redis_frozen_or_gone_falls_back_to_the_database_and_recovers(seeded, redis_server):
    (redis,) = [p for p in psutil.Process().children() if p.name() == "redis-server"]
    with running_app(seeded, REDIS_URL=redis_server.url, CACHE_SLOTS="5") as url:
        get_pages(url, 50)
        _, _, fallbacks_before = cache_counts(url)
        # Frozen (SIGSTOP): the kernel still accepts and acknowledges, nothing answers; only
        # the client's socket timeout (0.25 s, app/settings.py) ends a read.
        redis.send_signal(signal.SIGSTOP)
        try:
            frozen = [requests.get(f"{url}/", timeout=25) for _ in range(20)]  # 25: hang fails
        finally:
            redis.send_signal(signal.SIGCONT)
        _, _, fallbacks_frozen = cache_counts(url)
        assert {(p.status_code, len(p.text)) for p in frozen} == {(200, 140)}, "never a 500"
        assert fallbacks_frozen - fallbacks_before == 20
        # Gone.
        redis_server.stop()
        down = get_pages(url, 100)
        hits_down, queries_down, fallbacks_down = cache_counts(url)
        assert {(p.status_code, len(p.text)) for p in down} == {(200, 140)}, "never a 500"
        assert fallbacks_down - fallbacks_frozen == 100
        redis_server.start()
        time.sleep(2.5)  # the cache is skipped for 2 s after its last failure
        up = get_pages(url, 100)
        hits_up, queries_up, fallbacks_up = cache_counts(url)
    assert {p.status_code for p in up} == {200}
    assert fallbacks_up - fallbacks_down <= 1
    assert hits_up - hits_down >= 90, "the hit ratio recovered without a restart"
    assert queries_up - queries_down <= 2 * 5
