"""Serve snippets from Redis, reading the database only on a miss (the seed's test 9).

The page shows a random row, so the cache holds CACHE_SLOTS slots, each a random
row that expires after a while: a request picks a slot at random, and only the first
request for a slot after it expires reads the database. At hundreds of requests a second
that is one database read for every few hundred requests.

Redis down or slow never fails the page: the read falls back to the database (counted by
reason), and for a few seconds after a failure Redis is not asked at all, so a dead
Redis costs nothing per request; then it is tried again, and the cache recovers by itself.
"""

import random
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from prometheus_client import Counter

# Rows change only when seed_data runs; five minutes of staleness is harmless.
SLOT_TTL_SECONDS = 300
RETRY_AFTER_FAILURE_SECONDS = 2.0

FALLBACKS = Counter(
    "page_cache_fallbacks",
    "Page reads that went to the database because the cache failed (error) or was "
    "being skipped after a failure (skipped).",
    ["reason"],
)
for _reason in ("error", "skipped"):
    FALLBACKS.labels(_reason)


class _Breaker:
    """Skip the cache for a short while after it failed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._skip_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._skip_until

    def trip(self) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS


_breaker = _Breaker()


def snippet(load: Callable[[], str | None]) -> str | None:
    """A random snippet, from the cache when one is configured and answering."""
    if not settings.REDIS_URL:
        return load()
    if _breaker.is_open():
        FALLBACKS.labels("skipped").inc()
        return load()
    key = f"snippet:{random.randrange(settings.CACHE_SLOTS)}"
    try:
        text = cache.get(key)
    except Exception:  # redis-py raises its own ConnectionError/TimeoutError family
        _breaker.trip()
        FALLBACKS.labels("error").inc()
        return load()
    if text is None:
        text = load()
        if text is not None:
            _store(key, text)
    return text


def _store(key: str, text: str) -> None:
    try:
        cache.set(key, text, SLOT_TTL_SECONDS)
    except Exception:
        _breaker.trip()
