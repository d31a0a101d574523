"""Proof on an app this repository did not write: `django-admin startproject`, a view that
reads PostgreSQL, django-dyno-metrics installed into the project's own virtualenv as the
package's README says (the settings block is read from that README), served by gunicorn with
3 sync workers and `-c python:dyno_metrics.gunicorn`, scraped by a real Prometheus.

The virtualenv has the newest Django on Python 3.12+ and psycopg 3 (the kit's own suite
covers Django 5.2 on Python 3.11 with psycopg2): the package's supported range at its other
end.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
import requests

from app.process import ROOT, free_port, stop
from dashboards.checks import empty_queries
from dashboards.panels import APP_AND_DATABASE, GUNICORN, ROUTER, RULES, WAITRESS
from loadtests.prometheus import SCRAPE_INTERVAL_S, RunPrometheus
from tests.conftest import require_binary
from tests.metrics.scrape import parse, total

REQUIREMENTS = Path(__file__).with_name("fresh_project_requirements.txt")
PACKAGE_README = ROOT / "metrics" / "dyno_metrics" / "README.md"
REQUESTS = 300
CLIENTS = 6  # more than the workers, so every worker serves some of the requests
WORKERS = 3
APP_NAME = "fresh-project"  # its connections' application_name in pg_stat_activity
VIEW = """
from django.db import connection
from django.http import HttpResponse


def snippet(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM content_snippet ORDER BY random() LIMIT 1")
        (text,) = cursor.fetchone()
    return HttpResponse(text, content_type="text/plain")
"""
URLS = """
from django.urls import include, path

from fresh import views

urlpatterns = [
    path("", views.snippet, name="snippet"),
    path("", include("dyno_metrics.urls")),
]
"""


def newest_python() -> str:
    """A Python 3.12+ (the newest Django needs it): on PATH, else one pyenv installed."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which("python3.13"), shutil.which("python3.12")]
    candidates += sorted(map(str, pyenv.glob("versions/3.1[2-9]*/bin/python3")), reverse=True)
    check = "import sys; print(sys.version_info >= (3, 12))"
    for python in filter(None, candidates):
        answer = subprocess.run([python, "-c", check], capture_output=True, text=True)
        if answer.stdout.strip() == "True":
            return python
    pytest.fail("no Python 3.12+ found: `apt-get install python3.12` (or `pyenv install 3.13`)")


def readme_settings() -> str:
    """The settings block the package's README tells a user to add, verbatim."""
    text = PACKAGE_README.read_text()
    after = text[re.search(r"In\s+`settings\.py`:", text).end() :]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def install(venv: Path) -> None:
    """`pip install <checkout>` plus the project's own requirements, into the venv.

    The venv is made without pip and the kit's pip installs into it (`pip --python`): the
    same install into the same site-packages, without ensurepip's seconds. pip's cache is
    shared with every other install on the machine. Byte-compiling stays on: without it
    each of the 3 workers would compile Django's modules itself on its first imports."""
    subprocess.run([newest_python(), "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", str(ROOT), "-r", str(REQUIREMENTS)],
        check=True, timeout=900,
    )  # fmt: skip


def start_project(venv: Path, where: Path, database: dict) -> Path:
    subprocess.run([venv / "bin" / "django-admin", "startproject", "fresh", str(where)], check=True)
    package = where / "fresh"
    (package / "views.py").write_text(VIEW)
    (package / "urls.py").write_text(URLS)
    own = {
        "ENGINE": "django.db.backends.postgresql",
        **{key: database[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
        "CONN_MAX_AGE": 600,
        "OPTIONS": {"application_name": APP_NAME},
    }
    with open(package / "settings.py", "a") as settings:
        settings.write(f"\nALLOWED_HOSTS = ['127.0.0.1']\nDATABASES = {{'default': {own!r}}}\n")
        settings.write(readme_settings())
    return where


@pytest.fixture(scope="module")
def fresh_project(seeded, tmp_path_factory):
    """The project served by gunicorn, scraped by Prometheus, after REQUESTS page views;
    yields (base URL, Prometheus URL, when the requests started, when they were all answered)."""
    from django.db import connection

    require_binary("prometheus", "prometheus")
    root = tmp_path_factory.mktemp("fresh")
    install(root / "venv")
    project = start_project(root / "venv", root / "project", connection.settings_dict)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PROMETHEUS_", "PYTHON"))
    }
    with open(root / "gunicorn.log", "w") as log:
        server = subprocess.Popen(
            [root / "venv" / "bin" / "gunicorn", "fresh.wsgi", "-c", "python:dyno_metrics.gunicorn",
             "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"],
            cwd=project, env={**env, "DYNO": "web.1"}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    prometheus = None
    try:
        wait_until_served(f"{base}/metrics", server, root / "gunicorn.log")
        prometheus = RunPrometheus(root / "prometheus", [f"127.0.0.1:{port}"], [])
        wait_for_scrape(prometheus.url, after=time.time())
        started = time.time()
        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(lambda _: page_view(base), range(REQUESTS)))
        assert statuses == [200] * REQUESTS, (root / "gunicorn.log").read_text()[-2000:]
        loaded = time.time()
        wait_for_scrape(prometheus.url, after=loaded)
        yield base, prometheus.url, started, loaded
    finally:
        if prometheus:
            prometheus.stop()
        stop(server, timeout=30)


def wait_until_served(url: str, server: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    """Until the URL answers 200. Generous: each worker imports the project on its first
    request, which took tens of seconds on a busy 2-core machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn exited: {log.read_text()[-2000:]}"
        try:
            if requests.get(url, timeout=60).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s: {log.read_text()[-2000:]}")


def page_view(base: str) -> int:
    # Stamped as Heroku's router does, so the router queue time has observations.
    stamp = str(int(time.time() * 1000))
    return requests.get(base, headers={"X-Request-Start": stamp}, timeout=60).status_code


def wait_for_scrape(prometheus_url: str, after: float, timeout: float = 120) -> None:
    """Until Prometheus holds a successful scrape of the app taken after `after` (it may
    answer 503 for a while after /-/ready on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(
            f"{prometheus_url}/api/v1/query", params={"query": "timestamp(up == 1)"}, timeout=30
        )
        result = answer.json()["data"]["result"] if answer.status_code == 200 else []
        if result and float(result[0]["value"][1]) > after:
            return
        time.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape the app within {timeout} s")


def app_connections(database_url: str) -> int:
    with psycopg2.connect(database_url) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        )
        return cursor.fetchone()[0]


def test_every_scrape_counts_every_workers_requests_and_connections(fresh_project, seeded):
    base, _, _, _ = fresh_project
    in_postgres = app_connections(seeded)
    # Each sync worker that served a page keeps its connection (CONN_MAX_AGE): the sum spans
    # several processes only if several did.
    assert 2 <= in_postgres <= WORKERS
    for _ in range(10):
        samples = parse(requests.get(f"{base}/metrics", timeout=60).text)
        pages = total(
            samples, "django_http_responses_total_by_status_view_method_total", view="snippet"
        )
        assert pages == REQUESTS
        assert total(samples, "django_db_connections_open") == in_postgres
        assert total(samples, "gunicorn_workers") == WORKERS
        # Series that describe the dyno come once per scrape, not once per worker.
        for name in ("pg_up", "app_info", "pg_settings_max_connections",
                     "process_cpu_seconds_total", "listen_queue_limit"):  # fmt: skip
            assert [key for key in samples if key[0] == name] != [], name
            assert len([key for key in samples if key[0] == name]) == 1, name
        assert total(samples, "pg_up") == 1


def test_every_app_panel_shows_data_but_waitress_ones_which_say_why(fresh_project):
    _, prometheus_url, started, loaded = fresh_project
    # Read as Grafana would have drawn the panels just after the load: their rates look back a
    # minute, and the recording rules need an evaluation after the load's last scrape (the run
    # Prometheus evaluates every scrape interval). Read later, a quiet minute reads as no data.
    at = loaded + 2 * SCRAPE_INTERVAL_S
    wait_for_scrape(prometheus_url, after=at)
    empty = empty_queries(
        prometheus_url, at, at - started, available=frozenset({RULES, ROUTER, GUNICORN})
    )
    assert [(q.panel, q.expr) for q in empty if q.dashboard == APP_AND_DATABASE.uid] == []
    waitress_only = [
        p for p in APP_AND_DATABASE.panels if any(WAITRESS in q.needs for q in p.queries)
    ]
    assert waitress_only
    assert all("empty under gunicorn" in p.description for p in waitress_only)
