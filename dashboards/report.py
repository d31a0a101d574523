"""runs/<run-id>/report.html: the dashboards' panels without Grafana, and its screenshot.

The panels come from dashboards.panels (the same PromQL Grafana runs), evaluated on the run's
Prometheus over [start, end], or, where no Prometheus ran, drawn from the run's own samples of
the app's /metrics (run_dir/samples.jsonl; see sources.SamplesSource). One self-contained HTML
file: inline SVG and CSS, no JavaScript, nothing fetched.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from html import escape
from pathlib import Path

from dashboards.defaults import DEFAULT_SCRAPE_INTERVAL_S, rate_interval
from dashboards.panels import (
    APP_AND_DATABASE,
    CACHE,
    DASHBOARDS,
    DRAIN,
    FAILURES,
    GUNICORN,
    POOLER,
    ROUTER,
    RULES,
    TLS,
    WAITRESS,
    Panel,
    Query,
    expand,
)
from dashboards.sources import (
    SAMPLES_FILE,
    PrometheusSource,
    QueryError,
    SamplesSource,
    SeriesData,
    finite_points,
)
from dashboards.svg import Series, legend, line_chart
from dashboards.units import format_value
from metrics.alerting.rules import runbook_url

CHART_POINTS = 240  # points per series: enough for a smooth line at the chart's width
NEEDS_TEXT = {
    RULES: "the recording rules loaded into Prometheus",
    FAILURES: "something to have failed (it stays empty in a healthy run)",
    ROUTER: "a router stamping X-Request-Start",
    DRAIN: "a Heroku app's log drain read by the receiver (metrics/drain), scraped as job drain",
    CACHE: "the app running with REDIS_URL (the Redis page cache)",
    POOLER: "a PgBouncer whose pools are scraped as job pgbouncer (test 4b)",
    WAITRESS: "the app served by Waitress (python -m app.serve)",
    GUNICORN: "the app served by gunicorn with -c python:dyno_metrics.gunicorn (tests 2 to 4)",
    TLS: "a deployed app's router lines of requests over TLS (Router 2.0's tls_version=)",
}

STYLE = """
body { font-family: sans-serif; margin: 16px 24px; color: #1d2129; background: #f4f5f7; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { margin: 24px 0 4px; } h3 { margin: 12px 0 4px; }
.summary { font-size: 20px; font-weight: bold; margin: 6px 0; }
.seed { color: #555; margin: 2px 0 8px; }
.grid { display: grid; grid-template-columns: repeat(3, 450px); gap: 10px; }
.panel { background: #fff; border: 1px solid #d9dce1; border-radius: 4px; padding: 6px; margin: 0; }
.panel h4 { margin: 0 0 4px; font-size: 13px; }
.stats { display: flex; flex-wrap: wrap; gap: 10px; }
.stat { background: #fff; border: 1px solid #d9dce1; border-radius: 4px; padding: 6px 10px; }
.stat b { display: block; font-size: 22px; }
.legend { list-style: none; padding: 0; margin: 2px 0; font-size: 11px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.note { font-size: 11px; color: #8a5a00; } details { font-size: 11px; }
table { border-collapse: collapse; background: #fff; font-size: 12px; }
td, th { border: 1px solid #d9dce1; padding: 3px 6px; text-align: left; }
"""


def _label(template: str, labels: dict[str, str]) -> str:
    """Grafana's legend format: {{name}} replaced by the label's value."""
    text = template
    for name, value in labels.items():
        text = text.replace(f"{{{{{name}}}}}", value)
    while "{{" in text and "}}" in text:
        head, _, rest = text.partition("{{")
        text = head + rest.partition("}}")[2]
    return " ".join(text.split()) or ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _needs(query_needs: frozenset[str]) -> str:
    return " and ".join(NEEDS_TEXT[need] for need in sorted(query_needs))


def _description(panel: Panel) -> str:
    return (
        "<details><summary>What healthy and failing look like</summary>"
        f"<p>{escape(panel.what)}</p><p><b>Healthy:</b> {escape(panel.healthy)}</p>"
        f"<p><b>Failing:</b> {escape(panel.failing)}</p>"
        + "".join(
            f'<p>Runbook: <a href="{runbook_url(name)}">{name}</a></p>' for name in panel.runbooks
        )
        + "</details>"
    )


class Renderer:
    """Draws each panel kind from one source over one time range."""

    def __init__(
        self,
        source: PrometheusSource | SamplesSource,
        start: float,
        end: float,
        scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S,
    ):
        self.source = source
        self.start, self.end = start, end
        self.step = max(1.0, math.ceil((end - start) / CHART_POINTS))
        self.rate_interval = rate_interval(self.step, scrape_interval_s)
        self.omitted: list[tuple[str, str]] = []
        self.panels_with_data = 0  # panels that found at least one point or row

    def _expr(self, expr: str) -> str:
        return expand(expr, range_s=self.end - self.start, rate_interval=self.rate_interval)

    def series(self, query: Query) -> SeriesData | None:
        """A query's series over the run, at the chart's step, as the report draws them."""
        return self.source.series(self._expr(query.expr), self.start, self.end, self.step)

    def timeseries(self, panel: Panel) -> str | None:
        series: list[Series] = []
        notes: list[str] = []
        for query in panel.queries:
            try:
                data = self.series(query)
            except QueryError as error:
                notes.append(f"query failed: {error}")
                continue
            sampled = isinstance(self.source, SamplesSource)
            if data is None or (sampled and RULES in query.needs):
                notes.append("needs Prometheus (a rate, a quantile or a recording rule)")
                continue
            if not finite_points(data):
                if sampled:
                    notes.append(f"not in {SAMPLES_FILE} (samples of the app's /metrics only)")
                else:
                    needs = _needs(query.needs)
                    what = _label(query.legend, {}) or "its query"
                    notes.append(f"no data for {what}" + (f" (needs {needs})" if needs else ""))
            series += [Series(_label(query.legend, labels), points) for labels, points in data]
        if finite_points([(None, line.points) for line in series]):
            self.panels_with_data += 1
        notes = list(dict.fromkeys(notes))  # one line per reason, not per query
        if not series and isinstance(self.source, SamplesSource):
            self.omitted.append((panel.title, "; ".join(notes)))
            return None
        return (
            f'<figure class="panel" data-panel="{escape(panel.title)}">'
            f"<h4>{escape(panel.title)}</h4>"
            + line_chart(series, self.start, self.end, panel.unit)
            + legend(series, panel.unit)
            + "".join(f'<div class="note">{escape(note)}</div>' for note in notes)
            + _description(panel)
            + "</figure>"
        )

    def stat(self, panel: Panel) -> str | None:
        if not isinstance(self.source, PrometheusSource):
            self.omitted.append((panel.title, "a sum over the run needs Prometheus; see summary"))
            return None
        try:
            result = self.source.instant(self._expr(panel.queries[0].expr), self.end)
            value = format_value(result[0][1] if result else None, panel.unit)
        except QueryError as error:
            value = f"query failed: {error}"
        return f'<div class="stat">{escape(panel.title)}<b>{escape(value)}</b></div>'

    def table(self, panel: Panel) -> str | None:
        if not isinstance(self.source, PrometheusSource):
            self.omitted.append((panel.title, "alerts are evaluated by Prometheus only"))
            return None
        rows: set[tuple[tuple[str, str], ...]] = set()
        for query in panel.queries:
            try:
                data = self.series(query)
            except QueryError as error:
                failed = f"{panel.title}: query failed: {error}"
                return f'<div class="note">{escape(failed)}</div>'
            rows |= {
                tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))
                for labels, _ in data
            }
        if rows:
            self.panels_with_data += 1
        if not rows:
            body = "<p>None during the run.</p>"
        else:
            columns = sorted({k for row in rows for k, _ in row})
            body = (
                "<table><tr>"
                + "".join(f"<th>{escape(c)}</th>" for c in columns)
                + "</tr>"
                + "".join(
                    "<tr>"
                    + "".join(f"<td>{escape(dict(row).get(c, ''))}</td>" for c in columns)
                    + "</tr>"
                    for row in sorted(rows)
                )
                + "</table>"
            )
        return f"<h4>{escape(panel.title)} (during the run)</h4>{body}{_description(panel)}"

    def dashboard(self, definition) -> str:
        heading = f"<h2>{escape(definition.title)}</h2>"
        before = (self.panels_with_data, len(self.omitted))
        shared = frozenset.intersection(
            *(query.needs for panel in definition.panels for query in panel.queries)
        )
        html = self._rows(definition, heading)
        if shared and self.panels_with_data == before[0]:
            # Every panel needs the same absent source (the Heroku dashboard without a log
            # drain): one line says so instead of a screen of empty charts.
            del self.omitted[before[1] :]
            return f"{heading}<p>No data during the run: every panel needs {_needs(shared)}.</p>"
        return html

    def _rows(self, definition, heading: str) -> str:
        parts = [f"{heading}<p>{escape(definition.description)}</p>"]
        for row in definition.rows:
            drawn = [getattr(self, panel.kind)(panel) for panel in row.panels]
            drawn = [html for html in drawn if html]
            if not drawn:
                continue
            kind = row.panels[0].kind
            wrapper = {"stat": "stats", "timeseries": "grid", "table": "alerts"}[kind]
            parts.append(
                f'<h3>{escape(row.title)}</h3><div class="{wrapper}">{"".join(drawn)}</div>'
            )
        return "".join(parts)


def _not_scraped(definition, host: str) -> str:
    """A run against a deployed app scrapes its load generator only: one line instead of a
    dashboard of empty charts."""
    return (
        f"<h2>{escape(definition.title)}</h2><p>Not scraped in a run against {escape(host)}: "
        "the run's Prometheus watches its load generator only; the deployed app's own metrics "
        "are the observability stack's (job heroku-app), its router's the log drain's.</p>"
    )


def _figures(figures: dict) -> str:
    """A seed-style line: '5000 users · 20k req/min · 0% errors · avg 178 ms'."""
    figures = {key: value for key, value in figures.items() if value is not None}
    parts = []
    if "users" in figures:
        parts.append(f"{figures['users']:g} users")
    if "requests_per_minute" in figures:
        parts.append(f"{format_value(figures['requests_per_minute'], 'short')} req/min")
    if "full_load_requests_per_minute" in figures:  # a run's, never the seed's
        full_load = format_value(figures["full_load_requests_per_minute"], "short")
        parts.append(f"{full_load} req/min at full load")
    if "requests" in figures:
        parts.append(f"{format_value(figures['requests'], 'short')} requests")
    if "error_rate" in figures:
        parts.append(f"{format_value(figures['error_rate'], 'percentunit')} errors")
    for key, label in (("avg_ms", "avg"), ("p95_ms", "p95"), ("max_ms", "max")):
        if key in figures:
            parts.append(f"{label} {format_value(figures[key] / 1000, 's')}")
    return " · ".join(parts)


def _seed(seed: dict) -> str:
    """The seed's figures for the test, and what it wrote in words (its string fields)."""
    words = [str(v) for k, v in seed.items() if isinstance(v, str) and k != "test"]
    return " · ".join(part for part in [_figures(seed), *words] if part) or "no figures"


def _summary(summary: dict) -> str:
    test = escape(str(summary.get("test", "?")))
    details = ", ".join(
        f"{key}: {escape(str(summary[key]))}"
        for key in (
            "scale",
            "duration_s",
            "router_model",
            "db_queries_per_second",
            "db_connections_max",
        )
        if key in summary
    )
    errors = summary.get("errors") or {}
    error_text = ", ".join(f"{escape(str(k))}: {v}" for k, v in sorted(errors.items()))
    return (
        f"<h1>Load test {test}</h1>"
        f'<p class="summary">{escape(_figures(summary))}</p>'
        f'<p class="seed">Seed: {escape(_seed(summary.get("seed") or {}))}</p>'
        f"<p>{details}</p>"
        + (f"<p>Errors by kind: {error_text}</p>" if error_text else "")
        + _paths(summary)
    )


def _paths(summary: dict) -> str:
    """The user's own paths (a run with --path or --scenario-file): a row each, by name."""
    if not summary.get("user_requests"):
        return ""
    rows = "".join(
        f"<tr><td>{escape(path)}</td><td>{figures['requests']}</td><td>{figures['failures']}</td>"
        f"<td>{escape(format_value(_seconds(figures['avg_ms']), 's'))}</td>"
        f"<td>{escape(format_value(_seconds(figures['p95_ms']), 's'))}</td></tr>"
        for path, figures in summary["paths"].items()
    )
    return (
        "<table><tr><th>path</th><th>requests</th><th>failures</th><th>average</th>"
        f"<th>p95</th></tr>{rows}</table>"
    )


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _alert_name(alert: dict) -> str:
    labels = alert.get("labels") or {}
    return str(alert.get("alertname") or alert.get("name") or labels.get("alertname", "?"))


def _alerts(alerts: list[dict], prometheus_url: str | None) -> str:
    if prometheus_url is None:
        return "<h2>Alerts</h2><p>No Prometheus ran, so no alert was evaluated.</p>"
    if not alerts:
        return "<h2>Alerts</h2><p>No alert fired.</p>"
    items = []
    for alert in alerts:
        name = _alert_name(alert)
        annotations = alert.get("annotations") or {}
        url = alert.get("runbook_url") or annotations.get("runbook_url") or runbook_url(name)
        summary = alert.get("summary") or annotations.get("summary", "")
        items.append(
            f"<li><b>{escape(name)}</b> {escape(str(summary))} "
            f'<a href="{escape(str(url))}">runbook</a></li>'
        )
    return f"<h2>Alerts that fired</h2><ul>{''.join(items)}</ul>"


def write_report(
    run_dir: Path,
    prometheus_url: str | None,
    start: float,
    end: float,
    summary: dict,
    alerts: list[dict],
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S,
) -> Path:
    """Write run_dir/report.html and return its path.

    prometheus_url: the run's Prometheus (None when none ran: the panels that are plain
    selectors of sampled gauges are drawn from run_dir/samples.jsonl, the others are listed as
    omitted). start, end: the run in unix seconds. summary: summary.json's fields. alerts: the
    alerts that fired, each with `alertname` (or `labels.alertname`) and optionally `summary`
    and `runbook_url` (plain or under `annotations`). scrape_interval_s: the Prometheus's, for
    $__rate_interval as Grafana computes it (Grafana's default when not given).
    """
    if end <= start:
        raise ValueError(f"the run must end after it starts (start={start}, end={end})")
    run_dir = Path(run_dir)
    source = (
        PrometheusSource(prometheus_url)
        if prometheus_url
        else SamplesSource(run_dir / SAMPLES_FILE)
    )
    renderer = Renderer(source, start, end, scrape_interval_s)
    sections = "".join(
        _not_scraped(definition, summary["host"])
        if summary.get("host") and definition is APP_AND_DATABASE
        else renderer.dashboard(definition)
        for definition in DASHBOARDS
    )
    origin = (
        f"Panels evaluated on Prometheus at {escape(prometheus_url)}."
        if prometheus_url
        else f"No Prometheus ran: panels drawn from {SAMPLES_FILE}, the run's samples of /metrics."
    )
    omitted = ""
    if renderer.omitted:
        omitted = (
            "<h2>Panels not drawn</h2><ul>"
            + "".join(
                f"<li><b>{escape(title)}</b>: {escape(reason)}</li>"
                for title, reason in renderer.omitted
            )
            + "</ul>"
        )
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Load test {escape(str(summary.get('test', '')))} report</title>"
        f"<style>{STYLE}</style></head><body>"
        + _summary(summary)
        + _alerts(alerts, prometheus_url)
        + f"<p>{origin}</p>"
        + sections
        + omitted
        + "</body></html>\n"
    )
    path = run_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def screenshot(report_html: Path, out_png: Path, timeout: float = 120.0) -> Path:
    """Render report_html in Debian's headless Chromium and save a PNG of the page."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("chromium not found: install it with `apt-get install -y chromium`")
    out_png = Path(out_png).resolve()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={out_png}",
            "--window-size=1400,3000",
            Path(report_html).resolve().as_uri(),
        ]
        # HOME inside the profile keeps Chromium from writing into the user's own folders.
        env = {**os.environ, "HOME": profile}
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    if completed.returncode != 0 or not out_png.exists():
        raise RuntimeError(
            f"chromium could not screenshot {report_html}: exit {completed.returncode}: "
            f"{completed.stderr.strip()[-500:]}"
        )
    return out_png
