"""Fixtures for the alerting tests: the real Prometheus tools, found on PATH."""

import shutil

import pytest


def _binary(name: str, package: str) -> str:
    # A missing tool is a failure, never a skip (with CI=true or not): these tests are the only
    # check that the rules and configs load in the real programs.
    path = shutil.which(name)
    if path is None:
        hint = f"install Debian's {package} (apt-get install {package})"
        pytest.fail(f"{name} not found on PATH: {hint}")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _binary("promtool", "prometheus")


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return _binary("prometheus", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    return _binary("amtool", "prometheus-alertmanager")


@pytest.fixture(scope="session")
def alertmanager_binary() -> str:
    return _binary("prometheus-alertmanager", "prometheus-alertmanager")
