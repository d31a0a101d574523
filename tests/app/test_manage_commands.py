"""manage.py as a user runs it: real processes, one-line errors, Ctrl-C."""

import os
import signal
import subprocess
import sys

import pytest

from app.content.models import Snippet
from tests.conftest import ROOT


def manage(args, **env):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal, even when the suite itself was started in the background
        # (`make test &`), which leaves SIGINT ignored, and Python then never sees it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize("count", ["0", "-1", "abc"])
def test_a_bad_count_is_one_line_without_traceback(test_database_url, count):
    process = manage(["seed_data", "--count", count], DATABASE_URL=test_database_url)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert err.strip().splitlines() == [
        f"CommandError: --count must be an integer from 1 to 100,000,000, got '{count}'"
    ]


def test_an_interrupted_seed_leaves_the_table_as_it_was(seeded, django_db_blocker):
    with django_db_blocker.unblock():
        before = set(Snippet.objects.values_list("id", flat=True))
    process = manage(
        ["seed_data", "--count", "50000000", "--batch-size", "20000", "--truncate"],
        DATABASE_URL=seeded,
    )
    try:
        # The first progress line means batches are being copied inside the transaction.
        assert "rows" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        # A seed still running holds the table's lock and would fail the tests after this one.
        process.kill()
        process.wait()
    assert process.returncode != 0
    assert "Traceback" not in err
    assert "interrupted" in err
    with django_db_blocker.unblock():
        assert set(Snippet.objects.values_list("id", flat=True)) == before


@pytest.mark.parametrize(
    "env, message",
    [
        ({"WAITRESS_THREADS": "abc"}, "WAITRESS_THREADS must be an integer"),
        ({"CONN_MAX_AGE": "-1"}, "CONN_MAX_AGE must be an integer"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL must be a postgres"),
        ({"DYNO": "web.1", "SECRET_KEY": ""}, "SECRET_KEY must be set on Heroku"),
        ({"DYNO": "web.1", "SECRET_KEY": "k", "METRICS_TOKEN": ""}, "METRICS_TOKEN must be set"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of DEBUG, INFO"),
        ({"METRICS_LOG_INTERVAL": "soon"}, "METRICS_LOG_INTERVAL must be a number of seconds"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_one_line_naming_it(env, message):
    process = manage(["check"], **{"DATABASE_URL": "postgres://u@127.0.0.1:1/db", **env})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
