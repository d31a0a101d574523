"""Run Waitress until SIGTERM, then drain: answer everything accepted, and exit.

Heroku sends SIGTERM on every deploy, restart and daily cycling, and SIGKILL 30 s later
(Dev Center "Dyno Shutdown Behavior"). Waitress's own shutdown (``server.run()`` ending on
``SystemExit``) cancels the requests queued for a thread ("Canceling N pending task(s)")
and closes the sockets, resetting the requests it has not read yet. Instead, on SIGTERM
(or Ctrl-C) the event loop keeps running while:

1. the listen socket takes the connections already in its backlog (the kernel completed
   their handshakes: a client has sent or is sending a request) and then closes, so new
   connections are refused;
2. every channel keeps being read and served: queued requests, requests still unread in
   their sockets, and half-received ones all get their answer, the last on each connection
   with ``Connection: close`` (``app.waitress_channel``);
3. a connection with nothing to answer and nothing unread (an idle keep-alive) is closed;
4. once no connection is left, and no request is queued or running, the loop ends and the
   thread pool stops with nothing to cancel.

A client that never finishes its request keeps the dyno up to ``DEADLINE_SECONDS``; then
the remaining connections are closed and the exit is still 0 (Waitress then waits up to
5 s for its threads, within Heroku's 30 s).
"""

import logging
import signal
import time

from dyno_metrics import listen_queue, waitress

logger = logging.getLogger("app.serve")

# Heroku kills the dyno 30 s after SIGTERM. Waitress's thread-pool shutdown may take 5 s
# more, and closing the database connections a moment: 20 s leaves room for both.
DEADLINE_SECONDS = 20.0


class Drain:
    def __init__(self, server, deadline_seconds: float = DEADLINE_SECONDS):
        self.server = server
        self.deadline_seconds = deadline_seconds
        self.started_at: float | None = None
        server.draining = False

    def request(self, signum, frame) -> None:
        """The signal handler: the loop notices at its next turn (the trigger wakes it)."""
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.server.pull_trigger()

    def step(self) -> None:
        """Called by the loop after each turn, in the loop's thread."""
        if self.started_at is None:
            return
        if not self.server.draining:
            self.server.draining = True
            self._stop_accepting()
            now = waitress.read(self.server)
            logger.info(
                "draining: %d connections open, %d requests queued, %d of %d threads busy",
                now.connections,
                now.queue_depth,
                now.threads_busy,
                now.threads,
            )
        for channel in list(self.server.active_channels.values()):
            if channel.idle():
                channel.handle_close()

    def finished(self) -> bool:
        if self.started_at is None:
            return False
        if not self.server.active_channels:
            saturation = waitress.read(self.server)
            return saturation.queue_depth == 0 and saturation.threads_busy == 0
        if time.monotonic() - self.started_at >= self.deadline_seconds:
            left = list(self.server.active_channels.values())
            logger.warning(
                "drain deadline (%.0f s): closing %d connection(s) still open",
                self.deadline_seconds,
                len(left),
            )
            for channel in left:
                channel.handle_close()
            return True
        return False

    def _stop_accepting(self) -> None:
        server = self.server
        waiting = listen_queue.read(server.socket)
        for _ in range(waiting[0] if waiting else 0):
            server.handle_accept()  # past connection_limit too: they are already connected
        server.accepting = False
        server.del_channel()
        server.socket.close()


def serve(server) -> None:
    """Serve until SIGTERM or Ctrl-C, drain, and stop Waitress's threads."""
    drain = Drain(server)
    signal.signal(signal.SIGTERM, drain.request)
    signal.signal(signal.SIGINT, drain.request)
    try:
        while not drain.finished():
            server.asyncore.loop(
                timeout=server.adj.asyncore_loop_timeout,
                map=server._map,
                use_poll=server.adj.asyncore_use_poll,
                count=1,
            )
            drain.step()
    finally:
        server.task_dispatcher.shutdown()
    if drain.started_at is not None:
        logger.info("drained in %.1f s", time.monotonic() - drain.started_at)
