"""Fixtures for the alerting tests: the real Prometheus tools, found on PATH."""

import pytest

from tests.conftest import require_binary


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_binary("promtool", "prometheus")


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return require_binary("prometheus", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    return require_binary("amtool", "prometheus-alertmanager")


@pytest.fixture(scope="session")
def alertmanager_binary() -> str:
    return require_binary("prometheus-alertmanager", "prometheus-alertmanager")
