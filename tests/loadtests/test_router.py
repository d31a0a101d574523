"""The router stand-in's two models, each a real Caddy in front of a dyno that counts the
connections it accepts: Router 2.0 sends a run of requests over one pooled keep-alive
connection, the legacy router opens a new one for each request and asks the dyno to close it.
"""

import contextlib
import http.server
import threading
import urllib.request

from loadtests import router
from loadtests.processes import free_port
from tests.loadtests.helpers import PageDyno

REQUESTS = 20


class CountingDyno(http.server.ThreadingHTTPServer):
    """A keep-alive HTTP/1.1 dyno that counts the connections it accepts and remembers each
    request's Connection header."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Answer)
        self.lock = threading.Lock()
        self.accepted = 0
        self.connection_headers: list[str | None] = []

    def get_request(self):
        accepted = super().get_request()
        with self.lock:
            self.accepted += 1
        return accepted


class Answer(PageDyno):
    def do_GET(self):  # noqa: N802 - http.server's name
        with self.server.lock:
            self.server.connection_headers.append(self.headers.get("Connection"))
        self.answer_page()


def through_router(tmp_path, model: str) -> CountingDyno:
    """REQUESTS requests, one after the other, through Caddy as `model` to a counting dyno."""
    dyno = CountingDyno()
    threading.Thread(target=dyno.serve_forever, daemon=True).start()
    port = free_port()
    with contextlib.ExitStack() as stack:
        stack.callback(dyno.shutdown)
        caddy = router.start(
            tmp_path, port, [f"127.0.0.1:{dyno.server_address[1]}"], "127.0.0.1", model=model
        )
        stack.callback(caddy.stop)
        url = f"http://127.0.0.1:{port}/"
        caddy.wait_until_http_ok(url)  # the first request
        for _ in range(REQUESTS - 1):
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200 and len(response.read()) == 140
    return dyno


def test_router_2_0_carries_requests_over_one_pooled_keep_alive_connection(tmp_path):
    dyno = through_router(tmp_path, router.ROUTER_2_0)
    assert len(dyno.connection_headers) == REQUESTS
    assert "close" not in dyno.connection_headers, dyno.connection_headers
    # One connection carried them all (two if Caddy had not yet put it back in its pool when
    # the next request came: its transport does that as the response body ends).
    assert 1 <= dyno.accepted <= 2, dyno.accepted
    caddyfile = (tmp_path / "Caddyfile").read_text()
    assert "keepalive 90s" in caddyfile
    assert f"keepalive_idle_conns_per_host {router.MAX_CONNECTIONS_PER_DYNO}" in caddyfile


def test_legacy_router_opens_a_new_connection_for_each_request(tmp_path):
    dyno = through_router(tmp_path, router.LEGACY)
    assert dyno.accepted == REQUESTS
    assert dyno.connection_headers == ["close"] * REQUESTS
