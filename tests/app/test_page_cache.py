"""The page from a real Redis: the database read only on a miss, and Redis going away."""

import time

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


def test_redis_going_away_falls_back_to_the_database_and_recovers(seeded, redis_server):
    with running_app(seeded, REDIS_URL=redis_server.url, CACHE_SLOTS="5") as url:
        get_pages(url, 50)
        redis_server.stop()
        down = get_pages(url, 100)
        hits_down, queries_down, fallbacks_down = cache_counts(url)
        assert {(p.status_code, len(p.text)) for p in down} == {(200, 140)}, "never a 500"
        assert fallbacks_down == 100
        redis_server.start()
        time.sleep(2.5)  # the cache is skipped for 2 s after its last failure
        up = get_pages(url, 100)
        hits_up, queries_up, fallbacks_up = cache_counts(url)
    assert {p.status_code for p in up} == {200}
    assert fallbacks_up - fallbacks_down <= 1
    assert hits_up - hits_down >= 90, "the hit ratio recovered without a restart"
    assert queries_up - queries_down <= 2 * 5
