"""Label values we accept from the logs: every one is checked so a series count stays bounded.

Anything that does not look like a dyno, a status, an error code or an add-on name is
refused (the line is counted as unparsed), so paths, request ids or junk never become labels.
The router's protocol and TLS version are mapped onto a fixed set ("other" for the rest).
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


# Router protocols: legacy router "http"/"https", Router 2.0 "http1.x"/"http2.0".
PROTOCOLS = frozenset({"http", "https", "http1.0", "http1.1", "http2.0"})
# Router 2.0's tls_version values that name a version ("unknown" on herokuapp.com domains).
TLS_VERSIONS = frozenset({"tls1.2", "tls1.3", "unknown"})


def protocol(value: str) -> str:
    """The router's ``protocol=``, "" when absent, "other" when not one Heroku documents."""
    if not value:
        return ""
    return value if value in PROTOCOLS else "other"


def tls_version(tls: str, version: str) -> str:
    """Router 2.0's ``tls=``/``tls_version=`` as one value: "none" for plain HTTP, the
    version for TLS, "" on legacy lines (which carry neither field)."""
    if not tls:
        return ""
    if tls == "false":
        return "none"
    return version if version in TLS_VERSIONS else "other"
