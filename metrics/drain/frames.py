"""Split a Logplex body (application/logplex-1) into its syslog messages by their octet counts.

Logplex frames each RFC 5424 message with RFC 6587 octet counting: ``<length> <message>``,
where the length is the message's size in bytes (UTF-8, not characters). Most frames end
with a newline that the length counts, but not all: Logplex puts its L10 "output buffer
overflow" frame at the front of a batch with nothing after it (heroku/logplex,
``src/logplex_http_drain.erl``), and a dyno line over 10,000 bytes arrives as 10,000-byte
chunks without newlines (Dev Center, "Logging"). So frames are read by their counts only;
a newline is neither needed nor trusted.

A count is believed when it lands on a frame boundary: the end of the body, a line break
(counted in the message or right after it), or the start of a next frame (``<digits>
<PRI>VERSION``) whose own count lands on a boundary. The last frame of a body may also be
one byte short, its counted newline trimmed off (tools that strip a body's trailing
whitespace do that, and nothing follows it that could be lost).

A count that cannot be right (it overruns the body, ends mid-text, swallows a line break
and the frame after it, or the frame is not ``<PRI>``-led) makes the frame malformed. The
reader then resynchronises: it scans forward, from just after the broken frame's length,
for the next ``<digits> <PRI>VERSION`` that passes the same checks, and goes on from there.
The skipped bytes count as malformed frames (one per non-blank line they span), and every
good frame that can be found is still read, including one a too-long count had claimed.
"""

import re

# A frame start: an octet count, one space, then an RFC 5424 header "<PRI>VERSION".
_START = re.compile(rb"([0-9]{1,7}) (?=<[0-9]{1,3}>[0-9])")
# Where a resync scan may find a frame start: a count not preceded by another digit.
_RESYNC = re.compile(rb"(?<![0-9])[0-9]{1,7} <[0-9]{1,3}>[0-9]")
_LINE_BREAK = frozenset(b"\r\n")
_NEWLINE_THEN_FRAME = re.compile(rb"\n[0-9]{1,7} <[0-9]{1,3}>[0-9]")


def _frame_at(body: bytes, pos: int, look_ahead: int = 2) -> tuple[int, int] | None:
    """(start, end) of the message framed at ``pos`` when its count lands on a boundary.

    A frame followed directly by another is believed when that one is too, checked
    ``look_ahead`` frames deep (then a well-formed frame start is enough): chunks of a long
    line follow each other with no newline, and a count one byte too long, which would eat
    the first digit of the next count, leaves a next frame that fails its own check."""
    match = _START.match(body, pos)
    if match is None:
        return None
    start = match.end()
    end = start + int(match.group(1))
    if end == len(body) + 1 and body[-1:] != b"\n":
        end = len(body)  # the last frame's counted newline was trimmed off the body
    if end > len(body) or end == start:
        return None
    newline = body.find(b"\n", start, end - 1)  # rare inside a message: search only then
    if newline != -1 and _NEWLINE_THEN_FRAME.search(body, newline, end - 1):
        return None  # the count swallowed a line break and the frame after it
    if end == len(body) or body[end - 1] == 0x0A or body[end] in _LINE_BREAK:
        return start, end
    if look_ahead == 0:
        return (start, end) if _START.match(body, end) else None
    if _frame_at(body, end, look_ahead - 1) is not None:
        return start, end  # the next frame follows with no separator (the L10 case)
    return None


def _skip_line_breaks(body: bytes, pos: int) -> int:
    while body[pos : pos + 1] in (b"\n", b"\r"):
        pos += 1
    return pos


def _resync(body: bytes, pos: int) -> int:
    """The position of the next frame start after ``pos`` that passes the checks, or the
    end of the body."""
    for match in _RESYNC.finditer(body, pos):
        if _frame_at(body, match.start()) is not None:
            return match.start()
    return len(body)


def _skipped_frames(skipped: bytes) -> int:
    """Malformed frames counted for a stretch the reader skipped: one per non-blank line."""
    return sum(1 for line in skipped.split(b"\n") if line.strip())


def split_frames(body: bytes) -> tuple[list[bytes], int]:
    """Return the messages of ``body`` (without their length and trailing line break) and
    the number of malformed frames skipped."""
    messages = []
    malformed = 0
    pos = _skip_line_breaks(body, 0)
    while pos < len(body):
        found = _frame_at(body, pos)
        if found is None:
            # Resume just after the broken frame's length (or its first byte): a good frame
            # hidden inside what a wrong count claimed is found again.
            head = _START.match(body, pos)
            resume = _resync(body, head.end() if head else pos + 1)
            malformed += _skipped_frames(body[pos:resume])
            pos = resume
            continue
        start, end = found
        message = body[start:end]
        if message.endswith(b"\n"):
            message = message[:-1]
        messages.append(message.rstrip(b"\r"))
        pos = _skip_line_breaks(body, end)
    return messages, malformed


def is_octet_counted(data: bytes) -> bool:
    """Whether ``data`` starts like a Logplex body (a saved drain capture, say)."""
    return _START.match(data, _skip_line_breaks(data, 0)) is not None


def frame(message: str, count_newline: bool = True) -> bytes:
    """Octet-count one message as Logplex does (its documented example counts the newline)."""
    data = message.encode()
    return b"%d %s\n" % (len(data) + (1 if count_newline else 0), data)
