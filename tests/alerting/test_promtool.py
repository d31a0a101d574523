"""The committed configuration and rules load in the real promtool, and every unit test passes."""

import sys

from tests.alerting.alerting_support import METRICS, REPO, run
from tests.conftest import metrics_as_mounted


def test_prometheus_config_is_valid(promtool, tmp_path):
    # promtool checks that the token files exist: git ignores them, so they are made here
    # from their .example as a user makes them.
    result = run(promtool, "check", "config", "prometheus.yml", cwd=metrics_as_mounted(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    rule_files = len(list((METRICS / "rules").glob("*.yml")))
    assert f"{rule_files} rule files found" in result.stdout


def test_committed_rules_are_valid(promtool):
    files = sorted(str(p.relative_to(REPO)) for p in (METRICS / "rules").glob("*.yml"))
    result = run(promtool, "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass(promtool):
    files = sorted(str(p.relative_to(REPO)) for p in (METRICS / "tests").glob("*_test.yml"))
    assert len(files) >= 5, files
    result = run(promtool, "test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_fast_rules_are_valid(promtool, tmp_path):
    build = run(sys.executable, "-m", "metrics.alerting.build", "--fast", "--out", str(tmp_path))
    assert build.returncode == 0, build.stderr
    result = run(promtool, "check", "rules", *sorted(str(p) for p in tmp_path.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
