"""The load-test CLI run for real in a subprocess: database, dynos, Caddy, Prometheus, Locust."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loadtests", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_scenario(runs_root: Path, test: str, duration: int, *extra: str) -> tuple[Path, dict]:
    """Runs `python -m loadtests run` and returns its run folder and summary.json."""
    require_binary("prometheus", "prometheus")
    before = set(runs_root.glob("*")) if runs_root.exists() else set()
    done = cli(
        "run", "--test", test, "--duration", str(duration), "--runs-dir", str(runs_root), *extra,
        timeout=duration + 240,
    )  # fmt: skip
    assert done.returncode == 0, f"the run failed:\n{done.stdout}\n{done.stderr}"
    (run_dir,) = set(runs_root.glob("*")) - before
    return run_dir, json.loads((run_dir / "summary.json").read_text())


def assert_exporter_matches_locust(summary: dict) -> None:
    """The exporter's last scrape (taken over HTTP just before Locust exited) equals Locust's
    own totals: requests, failures by kind, and the histogram's count and mean."""
    exported = summary["exporter_final"]
    assert exported["requests"] == summary["requests"], exported
    assert exported["failures"] == summary["errors"], exported
    assert exported["duration_count"] == summary["requests"], exported
    mean_ms = 1000 * exported["duration_sum_s"] / exported["duration_count"]
    assert abs(mean_ms - summary["avg_ms"]) <= 0.001 * summary["avg_ms"] + 0.1, exported


def assert_router_matches_locust(summary: dict) -> None:
    """The router logged every request Locust counted, and at most one more per user: a request
    in flight when Locust stopped its users reaches the router's log (as H27 when the router
    noticed the user leave) but not Locust's counts. Locust's failures before the router
    (connection errors) would go the other way; these runs have none."""
    seen = summary["router"]
    assert "error" not in seen, seen
    extra = seen["requests"] - summary["requests"]
    assert 0 <= extra <= summary["users"], (summary["requests"], seen)
    assert seen["locust_minus_router"] == -extra, seen
    assert seen["codes"].get("H27", 0) <= extra, seen
    assert set(seen["codes"]) <= {"H27"}, seen
