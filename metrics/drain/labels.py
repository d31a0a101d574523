"""Label values we accept from the logs: every one is checked so a series count stays bounded.

Anything that does not look like a dyno, a status, an error code or an add-on name is
refused (the line is counted as unparsed), so paths, request ids or junk never become labels.
"""

import re

# Dyno names as Heroku writes them: process type, a dot, a number (web.1, worker.2, run.7166).
_DYNO = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,29}\.[0-9]{1,7}\Z")
# Heroku error codes: H (router), R (runtime), L (logging), two digits.
_CODE = re.compile(r"[HRL][0-9]{2}\Z")
# Add-on names (postgresql-curved-12345) and attachment names (DATABASE, HEROKU_POSTGRESQL_RED).
_ADDON = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
# The app's own sample names become part of a metric name: keep them to Prometheus' alphabet.
_SAMPLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def dyno(value: str) -> str | None:
    return value if _DYNO.match(value) else None


def code(value: str) -> str | None:
    return value if _CODE.match(value) else None


def status(value: str) -> str | None:
    """HTTP status as three digits from 100 to 599."""
    if len(value) == 3 and value.isdigit() and "1" <= value[0] <= "5":
        return value
    return None


def addon(value: str) -> str | None:
    return value if _ADDON.match(value) else None


def sample_name(value: str) -> str | None:
    return value if _SAMPLE_NAME.match(value) else None
