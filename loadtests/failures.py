"""The bounded set of failure kinds a load test reports, and how a response maps to one.

The locustfile marks each failed request with its kind; the exporter and the summary read
the kind back from Locust's error strings, so the label set stays bounded whatever the
server answers.
"""

from __future__ import annotations

import re

KINDS = (
    "http_400",
    "http_4xx",
    "http_500",
    "http_503",
    "http_5xx",
    "timeout",
    "connection",
    "redirect",
    "bad_body",
    "other",
)

_KIND_PATTERN = re.compile(r"\b(" + "|".join(KINDS) + r")\b")


def kind_of_status(status: int) -> str:
    """The kind of an HTTP answer with another status than the one expected."""
    if 300 <= status < 400:
        # Not followed: a load test measures the page it names, and a redirect (to HTTPS, to
        # a trailing slash, to a login) means the path or the host is not the page meant.
        return "redirect"
    if status in (400, 500, 503):
        return f"http_{status}"
    if 400 <= status < 500:
        return "http_4xx"
    if 500 <= status < 600:
        return "http_5xx"
    return "other"


def kind_of_error(error: BaseException | None) -> str:
    """The kind of a request that got no HTTP answer at all."""
    if isinstance(error, TimeoutError) or "timed out" in str(error).lower():
        return "timeout"
    if isinstance(error, OSError):
        return "connection"
    return "other"


def kind_of_message(message: str) -> str:
    """Reads the kind back from an error string Locust recorded ("other" when none is named)."""
    found = _KIND_PATTERN.search(message)
    return found.group(1) if found else "other"


_WRAPPED = re.compile(r"^CatchResponseError\('(.*)'\)$")


def message_text(error: str) -> str:
    """A failure message as the locustfile wrote it (workers' reports carry its repr)."""
    unwrapped = _WRAPPED.match(error)
    return unwrapped.group(1) if unwrapped else error
