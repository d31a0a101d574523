"""Paths and a subprocess helper shared by the alerting tests (fixtures are in conftest.py)."""

import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
METRICS = REPO / "metrics"
RUNBOOKS = REPO / "runbooks"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
