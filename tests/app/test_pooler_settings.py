"""DATABASE_POOLER and METRICS_DATABASE_URL, the two settings behind PgBouncer (test 4b), read
by a real Django start-up in a subprocess, as a dyno reads them."""

import os
import subprocess
import sys

import pytest

from tests.app.test_manage_commands import manage
from tests.conftest import ROOT

APP_URL = "postgres://app@127.0.0.1:6432/cce"
DIRECT_URL = "postgres://postgres@127.0.0.1:5432/cce"
READ = (
    "import django; django.setup();"
    "from django.conf import settings; from dyno_metrics.collectors import postgres_connect_kwargs;"
    "print(settings.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS', False));"
    "k = postgres_connect_kwargs(); print(k['host'], k['port'], k['user'])"
)


def settings_seen(**env) -> list[str]:
    """Both settings unset unless `env` sets them."""
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_POOLER", "METRICS_DATABASE_URL")
    }
    done = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "app.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:2]


def test_transaction_pooling_disables_server_side_cursors_and_metrics_read_postgres_directly():
    seen = settings_seen(
        DATABASE_URL=APP_URL, DATABASE_POOLER="transaction", METRICS_DATABASE_URL=DIRECT_URL
    )
    assert seen == ["True", "127.0.0.1 5432 postgres"]


def test_without_them_cursors_stay_and_metrics_read_the_apps_database():
    seen = settings_seen(DATABASE_URL=APP_URL)
    assert seen == ["False", "127.0.0.1 6432 app"]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DATABASE_POOLER": "statement"}, "DATABASE_POOLER must be 'transaction' or 'session'"),
        ({"METRICS_DATABASE_URL": "mysql://u@h/db"}, "METRICS_DATABASE_URL: DATABASE_URL must be"),
    ],
)
def test_a_malformed_pooler_setting_is_one_line(env, message):
    process = manage(["check"], **{"DATABASE_URL": APP_URL, **env})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
