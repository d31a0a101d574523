"""Paths and a subprocess helper shared by the alerting tests (fixtures are in conftest.py)."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
METRICS = REPO / "metrics"
RUNBOOKS = REPO / "runbooks"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
