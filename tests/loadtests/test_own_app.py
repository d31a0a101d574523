"""A user's own app, load-tested without editing the kit: a scenario file's paths, weights and
checks against a real Django app served by Waitress on loopback (tests/loadtests/other_app.py),
with real Locust and the run's own Prometheus; and a redirect named before the run starts."""

import json
import re

import pytest

from loadtests.processes import Process, free_port, python_module
from tests.conftest import require_binary
from tests.loadtests.helpers import assert_exporter_matches_locust, cli


@pytest.fixture
def other_app(tmp_path, request):
    """The other app under Waitress on a free loopback port; yields its URL. Parametrize with
    an environment (e.g. {"SSL_REDIRECT": "1"})."""
    port = free_port()
    process = Process(
        "other app",
        python_module(
            "waitress", f"--listen=127.0.0.1:{port}", "tests.loadtests.other_app:application"
        ),
        tmp_path / "other_app.log",
        env=getattr(request, "param", {}),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_until_http_ok(f"{url}/")
    except Exception:
        process.stop()
        raise
    yield url
    process.stop()


# In YAML: the TOML example asks for the same (tests/loadtests/test_user_requests.py).
SCENARIO = """
paths:
  - {path: /, weight: 3}
  - /items/=1
  - /items=1
expect_body: "<h1>[A-Z]"
headers:
  Accept: text/html
"""


def test_a_scenario_file_against_another_django_app_reports_each_path(other_app, tmp_path):
    require_binary("prometheus", "prometheus")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    runs = tmp_path / "runs"
    done = cli(
        "run", "--test", "5", "--users", "150", "--duration", "10", "--host", other_app,
        "--scenario-file", str(scenario), "--runs-dir", str(runs), timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    (run_dir,) = runs.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    # Against --host nothing of the app's is started: no dynos, no router, no router's view
    # without --drain; the run's own Prometheus watches the load generator alone.
    assert not list(run_dir.glob("web.*.log")) and not (run_dir / "Caddyfile").exists()
    assert "router" not in summary and f"against {other_app}" in done.stdout
    config = (run_dir / "prometheus.yml").read_text()
    assert "job_name: locust" in config and "job_name: app" not in config
    assert "Alerts fired during the run" in done.stdout
    paths = summary["paths"]
    assert list(paths) == ["/", "/items/", "/items"], paths
    # Both pages pass the file's checks (not the seed's 140 characters); /items is Django's
    # APPEND_SLASH redirect, not followed: every one a failure naming where it leads.
    assert paths["/"]["failures"] == paths["/items/"]["failures"] == 0, summary["error_messages"]
    assert paths["/items"]["requests"] > 0
    assert summary["errors"] == {"redirect": paths["/items"]["requests"]}, summary["errors"]
    assert summary["error_messages"] == {"redirect: 301 to /items/": paths["/items"]["requests"]}
    # The weights: three home pages for each of the others (about 90 against 30 each here).
    assert paths["/"]["requests"] > paths["/items/"]["requests"], paths
    assert sum(p["requests"] for p in paths.values()) == summary["requests"]
    # The exporter's path label holds the declared paths, with Locust's counts for each.
    exported = summary["exporter_final"]["requests_by_path"]
    assert exported == {path: figures["requests"] for path, figures in paths.items()}
    assert_exporter_matches_locust(summary)
    assert "by path (GET, expecting 200 and a body matching '<h1>[A-Z]')" in done.stdout
    assert re.search(r"/items\s+\d+ requests\s+100\.0% errors", done.stdout), done.stdout
    # The report's Load test dashboard draws a line per path, from the run's Prometheus.
    report = (run_dir / "report.html").read_text()
    by_path = report[report.index('data-panel="Requests per minute by path"') :]
    by_path = by_path[: by_path.index("</figure>")]
    assert all(f"</span>{path} <b>" in by_path for path in paths), by_path[-1000:]
    assert "no data" not in by_path
    assert f"Not scraped in a run against {other_app}" in report
    for path, figures in paths.items():  # the summary's table, a row per path
        assert f"<tr><td>{path}</td><td>{figures['requests']}</td>" in report


@pytest.mark.parametrize("other_app", [{"SSL_REDIRECT": "1"}], indirect=True)
def test_a_redirect_to_https_is_named_with_the_fix_before_anything_starts(other_app, tmp_path):
    runs = tmp_path / "runs"
    done = cli(
        "run", "--test", "5", "--host", other_app, "--path", "/items/", "--runs-dir", str(runs)
    )
    assert done.returncode == 2, done
    https = other_app.replace("http://", "https://")
    assert done.stderr == (
        f"error: {other_app}/items/ redirects (301) to {https}/items/, and the run does not "
        "follow redirects (each would count as a failure of kind redirect): give --host "
        f"{https}, or turn the redirect off for the test (Django: SECURE_SSL_REDIRECT=False), "
        "or --expect-status 301 to measure the redirect itself\n"
    )
    assert not runs.exists()
