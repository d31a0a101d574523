"""metrics/alertmanager.yml loads in amtool; critical goes to the pager, the rest to tickets."""

import pytest
from alerting_support import run

CONFIG = "--config.file=metrics/alertmanager.yml"


def test_alertmanager_config_is_valid(amtool):
    result = run(amtool, "check-config", "metrics/alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inhibit rules" in result.stdout


@pytest.mark.parametrize(
    ("severity", "receiver"),
    [("critical", "pager"), ("warning", "tickets"), ("info", "tickets")],
)
def test_routing_by_severity(amtool, severity, receiver):
    result = run(
        amtool, "config", "routes", "test", CONFIG, "alertname=AppDown", f"severity={severity}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver
