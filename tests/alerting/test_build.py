"""The committed rule files are exactly what the Python source generates; the CLI and the FAST
timing behave as documented."""

import sys

import pytest

from metrics.alerting import build, config
from metrics.alerting.rules import duration
from tests.alerting.alerting_support import METRICS, run


def test_committed_rules_match_the_source():
    expected = build.rule_files(config.NORMAL)
    committed = {p.name: p.read_text() for p in (METRICS / "rules").glob("*.yml")}
    assert sorted(committed) == sorted(expected), "rule files added or missing: rebuild"
    for name, text in expected.items():
        assert committed[name] == text, (
            f"metrics/rules/{name} differs from the source: run `python -m metrics.alerting.build`"
        )


def test_fast_build_writes_the_same_rules_with_short_durations(tmp_path):
    result = run(sys.executable, "-m", "metrics.alerting.build", "--fast", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    fast = {p.name: p.read_text() for p in tmp_path.glob("*.yml")}
    assert sorted(fast) == sorted(build.rule_files(config.NORMAL))
    assert "for: 5m" not in "".join(fast.values())
    assert "for: 10s" in fast["database.yml"] and "for: 20s" in fast["http.yml"]


def test_fast_timing_fits_a_one_minute_run():
    fast = config.FAST
    for name in [n for n in vars(fast) if n.endswith("_for")]:
        assert 10 <= getattr(fast, name) <= 20, name
    # The burn-rate pairs keep the workbook's long:short ratio of 12 and their burn factors.
    for (long, short, burn), (n_long, n_short, n_burn) in zip(
        fast.burn_rate_windows, config.NORMAL.burn_rate_windows, strict=True
    ):
        assert (long / short, burn) == (n_long / n_short, n_burn)
    # Queueing must be able to fire before latency does (the seed's test 6 order).
    assert fast.queueing_for <= fast.latency_for
    assert config.NORMAL.queueing_for <= config.NORMAL.latency_for


@pytest.mark.parametrize(
    ("seconds", "text"), [(21600, "6h"), (300, "5m"), (90, "90s"), (10, "10s")]
)
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_unknown_flag_is_a_one_line_error():
    result = run(sys.executable, "-m", "metrics.alerting.build", "--fastest")
    assert result.returncode == 2
    assert "unrecognized arguments: --fastest" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run(sys.executable, "-m", "metrics.alerting.build", "--out", str(blocker / "rules"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write rules to")
    assert "Traceback" not in result.stderr


def test_rules_link_their_runbooks_under_the_base_url_the_build_is_given(tmp_path):
    base = "https://github.com/you/your-app/blob/main/runbooks/"
    result = run(
        sys.executable, "-m", "metrics.alerting.build", "--out", str(tmp_path),
        env={"RUNBOOK_BASE_URL": base, "APP_JOBS": "web|worker"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = "".join(p.read_text() for p in tmp_path.glob("*.yml"))
    links = [
        line.split("runbook_url: ", 1)[1] for line in text.splitlines() if "runbook_url" in line
    ]
    assert links and all(link.startswith(base) and link.endswith(".md") for link in links)
    assert 'up{job=~"web|worker"} == 0' in text


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("RUNBOOK_BASE_URL", "runbooks/", "RUNBOOK_BASE_URL must be an http(s) URL"),
        ("APP_JOBS", "app(", "APP_JOBS must be a regular expression"),
    ],
)
def test_a_bad_build_setting_is_one_line(tmp_path, setting, value, says):
    result = run(
        sys.executable, "-m", "metrics.alerting.build", "--out", str(tmp_path), env={setting: value}
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {says}"), lines
    assert not list(tmp_path.glob("*.yml"))


def test_the_default_runbook_base_is_the_compose_stacks_runbook_server():
    import yaml

    compose = yaml.safe_load((METRICS.parent / "docker-compose.observability.yml").read_text())
    runbooks = compose["services"]["runbooks"]
    assert "./runbooks:/usr/share/nginx/html:ro" in runbooks["volumes"]
    (published,) = runbooks["ports"]
    host, port, _ = published.split(":")
    assert host == "127.0.0.1"
    assert f"http://localhost:{port}/" == config.DEFAULT_RUNBOOK_BASE_URL
