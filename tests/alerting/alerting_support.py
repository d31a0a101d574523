"""Paths and a subprocess helper shared by the alerting tests (fixtures are in conftest.py)."""

import subprocess
from pathlib import Path

from app.process import ROOT as REPO
from app.process import free_port

METRICS = REPO / "metrics"
RUNBOOKS = REPO / "runbooks"

__all__ = ["METRICS", "REPO", "RUNBOOKS", "free_port", "run"]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
