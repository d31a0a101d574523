"""Router queue time from X-Request-Start, through a real app process."""

import time

import pytest
import requests

from dyno_metrics.queue_time import parse_request_start
from tests.metrics.scrape import scrape, value


@pytest.mark.parametrize(
    "header, expected",
    [
        ("1700000000123", 1700000000.123),  # Heroku: milliseconds
        ("t=1700000000123", 1700000000.123),  # Caddy's t={time.now.unix_ms}
        ("t=1700000000123456", 1700000000.123456),  # microseconds
        ("t=1700000000.123", 1700000000.123),  # nginx's t=${msec}
        ("garbage", None),
        ("t=", None),
        ("-5", None),
        ("nan", None),
    ],
)
def test_request_start_formats(header, expected):
    parsed = parse_request_start(header)
    assert parsed == (pytest.approx(expected) if expected is not None else None)


def test_stamped_requests_are_observed_and_bad_stamps_counted(app_url):
    before = scrape(app_url)
    now_ms = int(time.time() * 1000)
    stamps = [str(now_ms - 250), f"t={now_ms - 250}", f"t={(now_ms - 250) * 1000}"]
    for stamp in stamps:
        requests.get(f"{app_url}/", headers={"X-Request-Start": stamp}, timeout=5)
    requests.get(f"{app_url}/", headers={"X-Request-Start": "yesterday"}, timeout=5)
    requests.get(f"{app_url}/", headers={"X-Request-Start": str(now_ms + 60_000)}, timeout=5)
    after = scrape(app_url)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("http_request_queue_seconds_count") == 3
    # Each waited at least the 250 ms the stamp is in the past.
    assert delta("http_request_queue_seconds_sum") >= 0.75
    assert delta("http_request_queue_seconds_bucket", le="0.1") == 0
    assert delta("http_request_queue_stamps_invalid_total", reason="malformed") == 1
    assert delta("http_request_queue_stamps_invalid_total", reason="future") == 1
