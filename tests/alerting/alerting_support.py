"""Paths and a subprocess helper shared by the alerting tests (fixtures are in conftest.py)."""

import os
import subprocess
from pathlib import Path

from app.process import ROOT as REPO
from app.process import free_port

METRICS = REPO / "metrics"
RUNBOOKS = REPO / "runbooks"

__all__ = ["METRICS", "REPO", "RUNBOOKS", "free_port", "run"]


def run(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs a command to the end; `env` adds to this process's environment."""
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )
