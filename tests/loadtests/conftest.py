"""Fixtures for the load-test tests (the helpers are in helpers.py)."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")
