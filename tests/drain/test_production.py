"""The receiver as an internet-facing endpoint: auth, retries, broken input, bounds."""

import subprocess
import sys
import urllib.error
import urllib.request

from metrics.drain.frames import frame
from tests.conftest import ROOT
from tests.drain.helpers import fixture_messages, value

ROUTER_LINE = fixture_messages()[0]  # web.1, status 200


def requests_web1(samples) -> float | None:
    return value(samples, "heroku_router_requests_total", dyno="web.1", status="200", code="")


def test_retried_batch_with_the_same_frame_id_is_counted_once(serve_app):
    receiver, _ = serve_app()
    body = frame(ROUTER_LINE) * 3
    assert receiver.post(body, frame_id="A1") == 204
    assert receiver.post(body, frame_id="A1") == 204  # Logplex retry
    assert receiver.post(body, frame_id="B2") == 204
    samples = receiver.scrape()
    assert requests_web1(samples) == 6
    assert value(samples, "heroku_drain_batches_received_total") == 2
    assert value(samples, "heroku_drain_batches_duplicate_total") == 1


def test_wrong_or_missing_credentials_get_401_and_are_not_read(serve_app):
    receiver, _ = serve_app()
    body = frame(ROUTER_LINE)
    assert receiver.post(body, auth=("drain-user", "wrong")) == 401
    assert receiver.post(body, auth=("someone", "s3cret-drain-password")) == 401
    assert receiver.post(body, auth=None) == 401
    assert receiver.post(body, headers={"Authorization": "Basic %%%not-base64"}, auth=None) == 401
    samples = receiver.scrape()
    assert requests_web1(samples) is None
    assert value(samples, "heroku_drain_batches_rejected_total", reason="auth") == 4


def test_a_drain_token_other_than_the_configured_one_gets_403(serve_app):
    receiver, _ = serve_app(env={"DRAIN_TOKEN": "d.fc6b856b-3332-4546-93de-7d0ee272c3bd"})
    body = frame(ROUTER_LINE)
    assert receiver.post(body, headers={"Logplex-Drain-Token": "d.other"}) == 403
    assert receiver.post(body) == 403  # no token at all
    token = {"Logplex-Drain-Token": "d.fc6b856b-3332-4546-93de-7d0ee272c3bd"}
    assert receiver.post(body, headers=token) == 204
    samples = receiver.scrape()
    assert requests_web1(samples) == 1
    assert value(samples, "heroku_drain_batches_rejected_total", reason="token") == 2


def test_a_batch_with_broken_frames_keeps_the_good_ones(serve_app):
    receiver, _ = serve_app()
    good = frame(ROUTER_LINE)
    body = b"".join(
        [
            good,
            b"999 " + ROUTER_LINE.encode() + b"\n",  # wrong length
            b"not-a-length " + ROUTER_LINE.encode() + b"\n",  # no octet count
            b"5 hello\n",  # right length, not syslog
            frame("<13>1 too short for RFC 5424"),  # framed, but not a syslog message
            frame(ROUTER_LINE, count_newline=False),  # the other counting convention
            frame("<158>1 2026-11-26T21:00:00+00:00 host heroku router - at=info status=banana"),
            frame(
                "<158>1 2026-11-26T21:00:00+00:00 host heroku router - status=200 dyno=../../etc"
            ),
            b"\xff\xfe\x00 binary junk\n",
            good,
        ]
    )
    assert receiver.post(body, frame_id="C3") == 204
    samples = receiver.scrape()
    assert requests_web1(samples) == 3
    assert value(samples, "heroku_drain_frames_malformed_total") == 5
    assert value(samples, "heroku_drain_frames_received_total") == 5
    assert value(samples, "heroku_drain_lines_unparsed_total", kind="router") == 2
    assert value(samples, "heroku_drain_batches_count_mismatch_total") == 0


def test_oversized_body_gets_413_and_other_content_types_415(serve_app):
    receiver, _ = serve_app(env={"DRAIN_MAX_BODY_BYTES": "1000"})
    assert receiver.post(frame(ROUTER_LINE) * 10) == 413
    assert receiver.post(frame(ROUTER_LINE), headers={"Content-Type": "text/plain"}) == 415
    assert receiver.post(frame(ROUTER_LINE)) == 204
    samples = receiver.scrape()
    assert requests_web1(samples) == 1
    assert value(samples, "heroku_drain_batches_rejected_total", reason="too_large") == 1
    assert value(samples, "heroku_drain_batches_rejected_total", reason="content_type") == 1


def test_metrics_token_protects_metrics_when_set(serve_app):
    receiver, _ = serve_app(env={"DRAIN_METRICS_TOKEN": "scrape-me"})
    try:
        urllib.request.urlopen(f"{receiver.url}/metrics", timeout=10)
        raise AssertionError("GET /metrics without the token was answered")
    except urllib.error.HTTPError as error:
        assert error.code == 401
    request = urllib.request.Request(f"{receiver.url}/metrics")
    request.add_header("Authorization", "Bearer scrape-me")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert b"heroku_drain_batches_received_total" in response.read()


def _run_cli(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "metrics.drain", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_refuses_to_start_without_credentials_with_one_line_error():
    result = _run_cli("--port", "0", env={})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("drain: error: DRAIN_USERNAME and DRAIN_PASSWORD are not set")
    assert "Traceback" not in result.stderr


def test_bad_setting_is_a_one_line_error():
    result = _run_cli(
        "--port",
        "0",
        env={"DRAIN_USERNAME": "u", "DRAIN_PASSWORD": "p", "DRAIN_TTL_SECONDS": "soon"},
    )
    assert result.returncode == 2
    assert result.stderr == "drain: error: DRAIN_TTL_SECONDS (--ttl) must be a number, got 'soon'\n"


def test_insecure_no_auth_serves_as_a_process_for_local_replay(run_receiver):
    receiver, _ = run_receiver(
        "--insecure-no-auth", env={"DRAIN_USERNAME": "", "DRAIN_PASSWORD": ""}
    )
    assert receiver.post(frame(ROUTER_LINE), auth=None) == 204
    assert requests_web1(receiver.scrape()) == 1
