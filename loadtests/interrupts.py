"""Ctrl-C and SIGTERM during a run.

The first one raises KeyboardInterrupt in the main thread: the run stops what it started, in
reverse order, each server given time to exit (processes.STOP_TIMEOUT_S). A later one raises
nothing, so no stop is cut short half-way; it makes the stopping hurry instead: every server
still running is killed (SIGKILL) at once rather than waited for (`hurry`).

Inside `deferred()` the first one waits until the block ends: a child process is started
and registered for cleanup in one such block, so none is ever left unregistered.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_received = 0
_deferring = 0
_pending = False


def install() -> None:
    """Ctrl-C and SIGTERM (a CI timeout, `kill`) both stop the run, in order."""
    global _received, _deferring, _pending
    _received, _deferring, _pending = 0, 0, False
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def _on_signal(_signum, _frame) -> None:
    global _received, _pending
    _received += 1
    if _received > 1:
        return  # hurry(): the stopping under way kills what is left
    if _deferring:
        _pending = True
        return
    raise KeyboardInterrupt


def hurry() -> bool:
    """Whether a second Ctrl-C or SIGTERM came: stop at once, without waiting."""
    return _received > 1


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block the first interrupt does not cut: it is raised when the block ends. Signal
    handlers run in the main thread only, so only the main thread defers."""
    global _deferring, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending:
            _pending = False
            raise KeyboardInterrupt
