"""Feed a Logplex body into the store: frames, then records, then lines."""

from metrics.drain import lines
from metrics.drain.frames import split_frames
from metrics.drain.records import from_syslog
from metrics.drain.store import Store


def ingest_body(store: Store, body: bytes, now: float) -> tuple[int, int]:
    """Read every well-formed frame of ``body``; return (frames read, frames malformed).

    A line that trips an unexpected error is counted (kind "error") and skipped: one odd line
    must never cost the batch or the process.
    """
    messages, malformed = split_frames(body)
    read = 0
    with store.lock:
        for message in messages:
            record = from_syslog(message)
            if record is None:
                malformed += 1
                continue
            read += 1
            try:
                lines.ingest(store, record.source, record.process, record.message, now)
            except Exception:  # noqa: BLE001 - counted below; the batch goes on
                store.unparsed("error")
    return read, malformed
