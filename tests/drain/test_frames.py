"""Octet counting on the real receiver: frames read by their byte counts with or without a
newline, and the resynchronisation after a count that cannot be right (metrics/drain/frames.py).
Every body is POSTed over HTTP; what the receiver made of it is read from /metrics."""

import pytest

from metrics.drain.frames import split_frames
from tests.drain.helpers import value

ROUTER = (
    "<158>1 2024-04-26T16:58:32.943253+00:00 host heroku router - at=info method=GET "
    'path="/" host=my-app.example.com request_id=6903a168-b79b-ec27-03c8-b8f64d8d8792 '
    "fwd=138.68.186.89 dyno=web.{n} connect=0ms service=0ms status=200 bytes=0 "
    "protocol=http2.0 tls=true tls_version=tls1.3"
)
# An app line with multi-byte characters: 2 bytes for "é", 3 for "✓", 4 for the emoji.
ACCENTED = "<190>1 2026-10-08T10:00:00.000000+00:00 host app web.1 - Café ✓ réussi 🚀"


def router(n: int) -> bytes:
    return ROUTER.format(n=n).encode()


def counted(message: bytes, count: int | None = None, newline: bool = True) -> bytes:
    """``<count> <message>[\\n]``; the count is the message's bytes unless given."""
    return b"%d %s%s" % (len(message) if count is None else count, message, b"\n" * newline)


def requests_by_dyno(samples) -> dict[str, float]:
    return {
        dict(labels)["dyno"]: count
        for (name, labels), count in samples.items()
        if name == "heroku_router_requests_total"
    }


@pytest.fixture
def post(serve_app):
    """POST one body to a fresh receiver and return its scrape."""

    def send(body: bytes):
        receiver, _ = serve_app()
        assert receiver.post(body, frame_id="frames") == 204
        return receiver.scrape()

    return send


def test_counts_are_bytes_not_characters(post):
    accented = ACCENTED.encode()
    assert len(accented) > len(ACCENTED)  # the point of the test
    samples = post(counted(accented) + counted(router(1)))
    assert value(samples, "heroku_drain_frames_received_total") == 2
    assert value(samples, "heroku_drain_frames_malformed_total") == 0
    assert requests_by_dyno(samples) == {"web.1": 1}


def test_a_count_of_characters_is_malformed_and_costs_nothing_else(post):
    samples = post(counted(ACCENTED.encode(), count=len(ACCENTED)) + counted(router(2)))
    assert value(samples, "heroku_drain_frames_malformed_total") == 1
    assert value(samples, "heroku_drain_frames_received_total") == 1
    assert requests_by_dyno(samples) == {"web.2": 1}


def test_frames_with_and_without_newlines_counted_or_not(post):
    body = b"".join(
        [
            counted(router(1) + b"\n", newline=False),  # the newline counted (Logplex)
            counted(router(2)),  # a newline after, not counted
            counted(router(3), newline=False),  # no newline at all (L10, chunks)
            counted(router(4), newline=False),
            counted(router(5) + b"\r\n", newline=False),
        ]
    )
    samples = post(body)
    assert requests_by_dyno(samples) == {f"web.{n}": 1 for n in range(1, 6)}
    assert value(samples, "heroku_drain_frames_malformed_total") == 0


def test_a_count_too_long_does_not_swallow_the_frame_it_overlaps(post):
    first = router(1)
    # The count claims the next frame as well (and then some): the next frame is found again.
    body = counted(first, count=len(first) + 40) + counted(router(2)) + counted(router(3))
    samples = post(body)
    assert requests_by_dyno(samples) == {"web.2": 1, "web.3": 1}
    assert value(samples, "heroku_drain_frames_malformed_total") == 1


def test_a_count_too_short_is_skipped_up_to_the_next_frame(post):
    first = router(1)
    body = counted(first, count=len(first) - 30) + counted(router(2))
    samples = post(body)
    assert requests_by_dyno(samples) == {"web.2": 1}
    assert value(samples, "heroku_drain_frames_malformed_total") == 1


def test_a_count_one_byte_too_long_eating_the_next_count_digit(post):
    """The shape of eauc/heroku-influxdb-drain's samples/sample1.txt: an L10 frame whose
    count reaches one byte into the next frame's count, with no newline between."""
    l10 = (
        b"<172>1 2017-08-28T08:36:13+00:00 host heroku logplex - Error L10 (output buffer "
        b"overflow): 7 messages dropped since 2017-08-28T08:07:27+00:00."
    )
    body = counted(l10, count=len(l10) + 1, newline=False) + counted(router(9))
    samples = post(body)
    assert requests_by_dyno(samples) == {"web.9": 1}
    assert value(samples, "heroku_logplex_messages_dropped_total", code="L10") is None
    assert value(samples, "heroku_drain_frames_malformed_total") == 1


def test_junk_between_frames_is_counted_per_line_and_skipped(post):
    body = (
        counted(router(1))
        + b"not a frame\n\xff\xfe binary\n12 <13>1 cut short\n"
        + counted(router(2), newline=False)
    )
    samples = post(body)
    assert requests_by_dyno(samples) == {"web.1": 1, "web.2": 1}
    assert value(samples, "heroku_drain_frames_malformed_total") == 3


def test_a_body_that_is_only_blank_lines_reads_nothing_and_breaks_nothing(post):
    samples = post(b"\n\r\n\n")
    assert value(samples, "heroku_drain_frames_received_total") == 0
    assert value(samples, "heroku_drain_frames_malformed_total") == 0


def test_split_frames_keeps_message_bytes_exactly():
    """The one unit check without HTTP: the messages handed on are the framed bytes, less
    the line break, so the byte-exact content reaches the line parsers."""
    accented = ACCENTED.encode()
    messages, malformed = split_frames(counted(accented + b"\n", newline=False))
    assert (messages, malformed) == ([accented], 0)
