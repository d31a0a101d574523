"""The Heroku files do what Heroku will do with them: run the release and web commands."""

import json
import os
import re
import shlex
import subprocess
import sys

import requests

from tests.conftest import ROOT, free_port, wait_for_http

# Heroku's `python` is the app's interpreter; here it is this test run's.
PATH = f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_release_command_migrates(test_database_url):
    result = subprocess.run(
        shlex.split(procfile()["release"]),
        cwd=ROOT,
        env={**os.environ, "PATH": PATH, "DATABASE_URL": test_database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "No migrations to apply" in result.stdout or "Apply" in result.stdout


def test_the_web_command_serves_on_port_as_a_dyno_would(seeded):
    port = free_port()
    env = {
        **os.environ,
        "PATH": PATH,
        "DATABASE_URL": seeded,
        "PORT": str(port),
        "DYNO": "web.1",
        "SECRET_KEY": "k" * 50,
        "METRICS_TOKEN": "t" * 32,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    process = subprocess.Popen(shlex.split(procfile()["web"]), cwd=ROOT, env=env)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        assert len(requests.get(f"http://127.0.0.1:{port}/", timeout=5).text) == 140
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_app_json_generates_a_secret_and_asks_for_postgres():
    manifest = json.loads((ROOT / "app.json").read_text())
    assert manifest["env"]["SECRET_KEY"]["generator"] == "secret"
    # Required wherever DYNO is set (app/settings.py), so Heroku must generate it too.
    assert manifest["env"]["METRICS_TOKEN"]["generator"] == "secret"
    assert any(a["plan"].startswith("heroku-postgresql") for a in manifest["addons"])
    assert re.fullmatch(r"3\.1[1-9]", (ROOT / ".python-version").read_text().strip())
