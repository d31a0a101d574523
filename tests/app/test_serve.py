"""The Waitress launcher as a real process: serves, survives the database going away, stops."""

import os
import signal
import subprocess
import sys

import requests

from app import embedded_db
from tests.conftest import ROOT, free_port, running_app, wait_for_http


def test_the_launcher_serves_and_exits_cleanly_on_sigterm(seeded):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": seeded, "WAITRESS_THREADS": "3"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
    assert len(requests.get(f"http://127.0.0.1:{port}/", timeout=5).text) == 140
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=15)
    assert process.returncode == 0, out
    assert "serving on http://127.0.0.1" in out and "with 3 threads" in out
    assert "Traceback" not in out


def test_a_port_in_use_is_a_one_line_error(seeded):
    with running_app(seeded) as url:
        busy_port = int(url.rsplit(":", 1)[1])
        result = subprocess.run(
            [sys.executable, "-m", "app.serve", "--port", str(busy_port)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": seeded},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{busy_port}: Address already in use"
    ]


def test_healthz_is_503_while_the_database_is_down_and_200_once_it_is_back(pg_data_dir):
    data_dir = pg_data_dir
    url = embedded_db.ensure_server(data_dir)
    with running_app(url) as app_url:
        assert requests.get(f"{app_url}/healthz", timeout=5).status_code == 200
        embedded_db.stop_server(data_dir)
        response = requests.get(f"{app_url}/healthz", timeout=25)  # bounded: a hang fails
        assert response.status_code == 503
        assert response.text == "Service unavailable: the database is not answering.\n"
        # The page itself is a 503 too, not a 500.
        assert requests.get(f"{app_url}/", timeout=10).status_code == 503
        embedded_db.ensure_server(data_dir)
        assert requests.get(f"{app_url}/healthz", timeout=10).status_code == 200
