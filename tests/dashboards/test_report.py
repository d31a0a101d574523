"""report.html from a real Prometheus and from the run's own samples, screenshotted in Chromium."""

import json
import re
import time
import urllib.request

import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from dashboards.panels import DASHBOARDS
from dashboards.report import screenshot, write_report
from dashboards.svg import PALETTE, PLOT_BACKGROUND
from metrics.alerting.rules import runbook_url
from tests.dashboards.conftest import RUN_PROVIDES

SUMMARY = {
    "test": "5",
    "scale": 0.1,
    "users": 500,
    "duration_s": 8,
    "requests": 1600,
    "requests_per_minute": 12000,
    "full_load_requests_per_minute": 13000,
    "error_rate": 0.05,
    "errors": {"http_400": 80},
    "avg_ms": 155.0,
    "p95_ms": 290.0,
    "max_ms": 1200.0,
    "alerts_fired": ["BadRequestSurge"],
    "seed": {  # the shape of loadtests.scenarios.SeedFigures: absent figures are None
        "users": 5000,
        "requests_per_minute": 20000,
        "requests": 100_000,
        "error_rate": 0.0,
        "avg_ms": 178,
        "max_ms": None,
        "text": "0% error rate, 178ms average response time",
    },
}
ALERTS = [  # Alertmanager's shape, and the runner's FiredAlert (loadtests/prometheus.py) as a dict
    {"labels": {"alertname": "BadRequestSurge"}, "annotations": {"summary": "Many 400s."}},
    {"name": "HighLatency", "severity": "warning", "active_at": 1.0, "firing_at": 2.0},
]


def figures(html: str) -> dict[str, str]:
    """Panel title to its <figure> HTML."""
    return dict(re.findall(r'<figure class="panel" data-panel="([^"]+)">(.*?)</figure>', html))


def test_report_draws_every_panel_from_prometheus(prometheus, tmp_path):
    url, start, end = prometheus
    html = write_report(tmp_path, url, start, end, SUMMARY, ALERTS).read_text()
    drawn = figures(html)
    timeseries = {p.title for d in DASHBOARDS for p in d.panels if p.kind == "timeseries"}
    assert set(drawn) == timeseries
    for panel in (p for d in DASHBOARDS for p in d.panels if p.kind == "timeseries"):
        if any(query.needs <= RUN_PROVIDES for query in panel.queries):
            assert "<polyline" in drawn[panel.title], f"{panel.title}: no line drawn"
    assert (  # the seed's line
        "Seed: 5000 users · 20k req/min · 100k requests · 0% errors · avg 178 ms · "
        "0% error rate, 178ms average response time"
    ) in html
    assert (
        "500 users · 12k req/min · 13k req/min at full load · 1.6k requests · 5% errors · "
        "avg 155 ms"
    ) in html
    assert runbook_url("BadRequestSurge") in html and "Many 400s." in html
    assert "<b>HighLatency</b>" in html and runbook_url("HighLatency") in html
    assert "Users<b>500</b>" in html  # the stat row, evaluated over the run
    assert not re.search(r"<script|src=\"http|href=\"http[^\"]*\.(css|js)", html)


def test_report_without_prometheus_draws_sampled_gauges(fake_run, tmp_path):
    start = time.time()
    lines = []
    for _ in range(4):
        with urllib.request.urlopen(f"{fake_run.app_url}/metrics", timeout=5) as response:
            text = response.read().decode()
        metrics = {
            sample.name
            + (
                "{" + ",".join(f'{k}="{v}"' for k, v in sample.labels.items()) + "}"
                if sample.labels
                else ""
            ): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        lines.append(json.dumps({"t": time.time(), "target": "web.1", "metrics": metrics}))
        time.sleep(0.3)
    (tmp_path / "samples.jsonl").write_text("\n".join(lines) + "\n")
    html = write_report(tmp_path, None, start, time.time(), SUMMARY, []).read_text()
    drawn = figures(html)
    assert "<polyline" in drawn["Waitress threads busy vs configured"]
    assert "<polyline" in drawn["Database connections by state vs max_connections"]
    assert "web.1 open" in drawn["Waitress connections vs connection_limit"]  # target: dyno
    omitted = html.split("<h2>Panels not drawn</h2>")[1]
    assert "<b>Latency p50/p95/p99 by view</b>: needs Prometheus (a rate" in omitted
    assert "<b>Users over time</b>: not in samples.jsonl" in omitted
    assert "No Prometheus ran" in html
    # The Heroku dashboard has nothing without a drain: one line, not 16 empty panels.
    assert "<h2>Heroku</h2><p>No data during the run: every panel needs a Heroku app's log" in html
    assert "Router requests by status and error code" not in html


def test_report_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="must end after it starts"):
        write_report(tmp_path, None, 10.0, 10.0, SUMMARY, [])
    (tmp_path / "samples.jsonl").write_text('{"t": 1, "metrics": {"bad{": 1}}\n')
    with pytest.raises(ValueError, match=r"samples.jsonl:1: bad sample line"):
        write_report(tmp_path, None, 0.0, 10.0, SUMMARY, [])


def _near(pixel, colour: str, tolerance: int = 40) -> bool:
    rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], rgb, strict=True))


def test_screenshot_shows_the_charts(prometheus, chromium, tmp_path):
    url, start, end = prometheus
    report = write_report(tmp_path, url, start, end, SUMMARY, ALERTS)
    png = screenshot(report, tmp_path / "report.png")
    image = Image.open(png).convert("RGB")
    assert image.size == (1400, 3000)
    colours = image.getcolors(maxcolors=image.width * image.height)  # (count, rgb), in C

    def pixels_near(colour: str, tolerance: int) -> int:
        return sum(count for count, rgb in colours if _near(rgb, colour, tolerance))

    plot_area = pixels_near(PLOT_BACKGROUND, 0)
    first_series = pixels_near(PALETTE[0], 40)
    second_series = pixels_near(PALETTE[1], 40)
    # 17 charts of 366x166 px plot area are white; each draws lines in the palette's colours.
    assert plot_area > 17 * 366 * 166 * 0.8, "the chart areas did not render"
    assert first_series > 17 * 200, "too few pixels of the first series' colour: lines missing"
    assert second_series > 5 * 200, "too few pixels of the second series' colour: lines missing"
