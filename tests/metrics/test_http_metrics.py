"""Request and response counts from a real app process match exactly what was sent."""

import time

import requests

import dyno_metrics
from tests.conftest import running_app
from tests.metrics.scrape import scrape, total, value

RESPONSES = "django_http_responses_total_by_status_view_method_total"


def test_counts_match_what_was_sent_and_an_unknown_host_counts_as_400(app_url):
    before = scrape(app_url)
    for _ in range(25):
        assert requests.get(f"{app_url}/", timeout=5).status_code == 200
    for _ in range(7):
        response = requests.get(f"{app_url}/", headers={"Host": "nope.example"}, timeout=5)
        assert response.status_code == 400
    after = scrape(app_url)

    def delta(**labels):
        return total(after, RESPONSES, **labels) - total(before, RESPONSES, **labels)

    assert delta(status="200", view="random_snippet", method="GET") == 25
    # The 400 is raised before any view runs; it must still land in the series the
    # error-rate panels and alerts use, with its status.
    assert delta(status="400", view="<unnamed view>") == 7
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert (
        value(after, latency, view="random_snippet", method="GET")
        - value(before, latency, view="random_snippet", method="GET")
        == 25
    )


def test_latency_buckets_run_from_a_millisecond_to_the_routers_30_seconds(app_url):
    assert requests.get(f"{app_url}/", timeout=5).status_code == 200
    edges = sorted(
        float(dict(labels)["le"])
        for name, labels in scrape(app_url)
        if name == "django_http_requests_latency_seconds_by_view_method_bucket"
        and dict(labels)["view"] == "random_snippet"
        and dict(labels)["method"] == "GET"
    )
    # The kit's buckets (settings.PROMETHEUS_LATENCY_BUCKETS), not django-prometheus's,
    # whose first edge, 10 ms, is above the whole page.
    assert tuple(edges) == dyno_metrics.LATENCY_BUCKETS
    assert edges[0] == 0.001 and edges[-2] == 30.0


def test_labels_stay_bounded_whatever_the_path_or_query(app_url):
    for i in range(5):
        requests.get(f"{app_url}/no-such-page-{i}?q={i}", timeout=5)
    text = requests.get(f"{app_url}/metrics", timeout=5).text
    assert "no-such-page" not in text and "q=" not in text


def test_the_dyno_is_exported_as_an_info_metric(seeded):
    with running_app(
        seeded, DYNO="web.2", SECRET_KEY="x" * 50, ALLOWED_HOSTS="127.0.0.1", METRICS_TOKEN="t"
    ) as url:
        samples = scrape(url, headers={"Authorization": "Bearer t"})
        assert value(samples, "app_info", dyno="web.2") == 1


def test_process_and_platform_collectors_are_exported(app_url):
    samples = scrape(app_url)
    assert value(samples, "process_resident_memory_bytes") > 0
    assert any(name == "python_info" for name, _ in samples)
    assert time.time() - value(samples, "process_start_time_seconds") < 3600


def test_metrics_token_missing_wrong_and_right(seeded):
    with running_app(seeded, METRICS_TOKEN="s3cret-token") as url:
        missing = requests.get(f"{url}/metrics", timeout=5)
        wrong = requests.get(f"{url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5)
        right = requests.get(
            f"{url}/metrics", headers={"Authorization": "Bearer s3cret-token"}, timeout=5
        )
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200 and "pg_up" in right.text


def test_metrics_off_serves_the_page_with_no_instrumentation(seeded):
    with running_app(seeded, METRICS_ENABLED="off") as url:
        assert requests.get(f"{url}/", timeout=5).status_code == 200
        assert requests.get(f"{url}/metrics", timeout=5).status_code == 404
