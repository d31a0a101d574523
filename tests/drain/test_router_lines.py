"""Router lines a client can shape: the path, the X-Forwarded-For address and the protocol
are the client's, and must neither raise Heroku error counters nor create label values."""

from metrics.drain.frames import frame
from tests.drain.helpers import value

HEAD = "<158>1 2026-11-26T21:00:00.000000+00:00 host heroku router - "
TAIL = (
    "dyno=web.1 connect=0ms service=12ms status=200 bytes=301 protocol=http1.1 "
    "tls=true tls_version=tls1.3"
)


def codes(samples) -> dict[str, float]:
    return {
        dict(labels)["code"]: count
        for (name, labels), count in samples.items()
        if name == "heroku_router_requests_total"
    }


def test_a_code_inside_the_path_or_the_client_address_is_not_an_error(serve_app):
    receiver, _ = serve_app()
    lines = [
        # A raw quote in the path, then a forged code (the router logs the path as sent).
        'at=info method=GET path="/search?q=" code=H12 desc="Request timeout"" '
        'host=cce-demo.herokuapp.com request_id=1 fwd="203.0.113.7" ' + TAIL,
        # The same in the client's X-Forwarded-For, which the router copies into fwd.
        'at=info method=GET path="/" host=cce-demo.herokuapp.com request_id=2 '
        'fwd="203.0.113.7" code=H13 x="" ' + TAIL,
        # And a forged at=error in front of the forged code.
        'at=info method=GET path="/ at=error code=H12" host=cce-demo.herokuapp.com '
        'request_id=3 fwd="203.0.113.7" ' + TAIL,
    ]
    body = b"".join(frame(HEAD + line) for line in lines)
    assert receiver.post(body) == 204
    samples = receiver.scrape()
    assert codes(samples) == {"": 3}
    assert value(samples, "heroku_drain_lines_parsed_total", kind="router") == 3


def test_the_code_heroku_writes_after_at_is_read_on_error_and_info_lines(serve_app):
    receiver, _ = serve_app()
    lines = [
        'sock=backend at=error code=H18 desc="Server Request Interrupted" method=POST '
        'path="/" host=h request_id=1 fwd="203.0.113.7" ' + TAIL,
        'at=info code=H80 desc="Maintenance mode" method=GET path="/" host=h request_id=2 '
        'fwd="203.0.113.7" dyno= connect= service= status=503 bytes= protocol=https',
    ]
    assert receiver.post(b"".join(frame(HEAD + line) for line in lines)) == 204
    assert codes(receiver.scrape()) == {"H18": 1, "H80": 1}


def test_protocol_and_tls_values_outside_the_documented_set_are_bounded(serve_app):
    receiver, _ = serve_app()
    line = (
        'at=info method=GET path="/" host=h request_id=1 fwd="203.0.113.7" dyno=web.1 '
        "connect=0ms service=1ms status=200 bytes=1 protocol=gopher/9 tls=true "
        "tls_version=ssl3-from-the-future"
    )
    plain = line.replace("tls=true", "tls=false").replace("protocol=gopher/9", "protocol=http1.1")
    assert receiver.post(frame(HEAD + line) + frame(HEAD + plain)) == 204
    samples = receiver.scrape()
    name = "heroku_router_protocol_requests_total"
    assert value(samples, name, protocol="other", tls_version="other") == 1
    assert value(samples, name, protocol="http1.1", tls_version="none") == 1
