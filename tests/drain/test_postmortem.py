"""Post-mortem: a saved log becomes a TSDB block a real Prometheus answers queries from."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from metrics.drain.frames import frame
from metrics.drain.postmortem import OpenMetricsBuffer, read_records, replay
from metrics.drain.store import Limits
from tests.conftest import ROOT, prometheus_over, require_binary
from tests.drain.corpus import SAMPLES
from tests.drain.helpers import (
    fixture_messages,
    prometheus_query,
)

START = datetime(2026, 11, 26, 21, 0, 0, 123456, tzinfo=UTC)


def write_heroku_logs(path):
    """Two minutes of `heroku logs`: web.1 a request a second, web.2 every other second,
    one H12 on web.2, runtime metrics and app lines that are read past."""
    lines = []
    for second in range(120):
        at = (START + timedelta(seconds=second)).isoformat()
        router = f'{at} heroku[router]: at=info method=GET path="/" host=cce-demo.herokuapp.com'
        lines.append(f"{router} dyno=web.1 connect=0ms service={second}ms status=200 bytes=301")
        if second % 2 == 0:
            lines.append(f"{router} dyno=web.2 connect=1ms service=20ms status=200 bytes=301")
        if second == 90:
            lines.append(
                f'{at} heroku[router]: at=error code=H12 desc="Request timeout" method=GET '
                'path="/" host=cce-demo.herokuapp.com dyno=web.2 connect=0ms service=30000ms '
                "status=503 bytes=0"
            )
        if second % 20 == 0:
            lines.append(
                f"{at} heroku[web.1]: source=web.1 dyno=heroku.1.a "
                "sample#memory_total=590.29MB sample#memory_rss=429.68MB "
                "sample#memory_swap=160.12MB sample#memory_quota=512.00MB"
            )
        lines.append(f"{at} app[web.1]: 203.0.113.7 GET / 200")
    path.write_text("\n".join(lines) + "\n")


def test_block_loads_into_prometheus_and_answers_at_the_time_of_the_logs(tmp_path):
    require_binary("promtool", "prometheus")
    logfile, out = tmp_path / "heroku.log", tmp_path / "tsdb"
    write_heroku_logs(logfile)
    result = subprocess.run(
        [sys.executable, "-m", "metrics.drain.postmortem", str(logfile), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    with prometheus_over(out) as url:  # keeps series however old, as the logs may be
        by_dyno = "sum by (dyno) (heroku_router_requests_total)"
        # 21:01:00: lines up to 21:00:59.123 (web.1 60, web.2 30); 21:02:00: all of them.
        assert prometheus_query(url, by_dyno, "2026-11-26T21:01:00Z") == {"web.1": 60, "web.2": 30}
        assert prometheus_query(url, by_dyno, "2026-11-26T21:02:00Z") == {"web.1": 120, "web.2": 61}
        h12 = 'sum by (dyno) (heroku_router_requests_total{code="H12", job="drain"})'
        assert prometheus_query(url, h12, "2026-11-26T21:02:00Z") == {"web.2": 1}
        memory = "heroku_dyno_memory_total_bytes / heroku_dyno_memory_quota_bytes"
        (ratio,) = prometheus_query(url, memory, "2026-11-26T21:01:30Z").values()
        assert round(ratio, 3) == 1.153


def test_a_raw_drain_capture_replays_to_the_same_series(tmp_path):
    capture = tmp_path / "drain.capture"
    capture.write_bytes(b"".join(frame(message) for message in fixture_messages()))
    records, skipped = read_records(capture)
    assert (len(records), skipped) == (21, 0)
    buffer = OpenMetricsBuffer({"job": "drain", "instance": "postmortem"})
    replay(records, 15.0, Limits(), None, buffer)
    out = tmp_path / "drain.om"
    with out.open("w") as handle:
        buffer.write(handle)
    text = out.read_text()
    # All 21 records fall in one 15 s step: 21:00:00..21:00:06 are sampled at 21:00:15.
    at = datetime(2026, 11, 26, 21, 0, 15, tzinfo=UTC).timestamp()
    assert (
        'heroku_router_requests_total{code="H12",dyno="web.1",instance="postmortem",'
        f'job="drain",status="503"}} 1.0 {at:.3f}'
    ) in text.splitlines()
    assert text.endswith("# EOF\n")


def test_missing_logfile_is_a_one_line_error(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "metrics.drain.postmortem",
            str(tmp_path / "nope.log"),
            "--out",
            "x",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr == f"postmortem: error: {tmp_path / 'nope.log'}: no such file\n"


def test_a_capture_is_read_by_its_octet_counts_like_a_post(tmp_path):
    """The L10 batch of the corpus, saved as a capture: the frame after the L10 one, which has
    no newline before it, is replayed too."""
    (l10_batch,) = [s for s in SAMPLES if s.name == "influxdb drain fixture: L10 overflow batch"]
    capture = tmp_path / "drain.capture"
    capture.write_bytes(l10_batch.body)
    records, skipped = read_records(capture)
    assert skipped == 0
    assert [(source, process) for _, source, process, _ in records] == [
        ("heroku", "web.1"),
        ("heroku", "web.1"),
        ("heroku", "logplex"),
    ]
