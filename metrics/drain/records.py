"""Read one log record, either as a drain message or as a line of `heroku logs` output.

Both give the same four parts: timestamp (RFC 3339 text), source (``heroku`` for the
platform, ``app`` for the app and its add-ons), process (``router``, ``web.1``,
``heroku-postgres``...) and the message text.

A drain message (RFC 5424, as Logplex writes it)::

    <158>1 2026-11-26T21:00:00.123456+00:00 host heroku router - at=info method=GET ...

A `heroku logs` line::

    2026-11-26T21:00:00.123456+00:00 heroku[router]: at=info method=GET ...
"""

from datetime import datetime
from typing import NamedTuple


class Record(NamedTuple):
    timestamp: str
    source: str
    process: str
    message: str


def from_syslog(message: bytes) -> Record | None:
    """Parse an RFC 5424 message: <PRI>VERSION TIMESTAMP HOST APP-NAME PROCID MSGID MSG."""
    parts = message.decode("utf-8", "replace").split(" ", 6)
    if len(parts) < 7 or not parts[0].startswith("<"):
        return None
    text = parts[6]
    # Some senders put an empty STRUCTURED-DATA ("-") before the text; Logplex does not.
    if text.startswith("- "):
        text = text[2:]
    return Record(parts[1], parts[3], parts[4], text)


def from_heroku_logs(line: str) -> Record | None:
    """Parse a line as `heroku logs` prints it: TIMESTAMP SOURCE[PROCESS]: MESSAGE."""
    timestamp, _, rest = line.partition(" ")
    head, sep, text = rest.partition(": ")
    if not sep or not head.endswith("]") or "[" not in head:
        return None
    source, _, process = head[:-1].partition("[")
    return Record(timestamp, source, process, text)


def from_any_line(line: str) -> Record | None:
    """A saved file may hold `heroku logs` output or a raw drain capture (octet-counted)."""
    first, _, rest = line.partition(" ")
    if first.isdigit() and rest.startswith("<"):
        return from_syslog(rest.encode())
    return from_heroku_logs(line)


def epoch_seconds(timestamp: str) -> float | None:
    """RFC 3339 timestamp as seconds since the epoch, or None when it is not one."""
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
