"""The receiver's settings, read once from the environment and the command line.

Environment (Heroku style): DRAIN_USERNAME, DRAIN_PASSWORD (required unless
--insecure-no-auth), DRAIN_TOKEN (optional: the drain's d.xxxx token, checked against the
Logplex-Drain-Token header), DRAIN_METRICS_TOKEN (optional: GET /metrics then needs
``Authorization: Bearer <token>``), DRAIN_TTL_SECONDS, DRAIN_PG_MAX_CONNECTIONS,
DRAIN_MAX_BODY_BYTES, DRAIN_MAX_DYNOS. Flags override the environment.
"""

from dataclasses import dataclass

from metrics.drain.store import Limits


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line for the user."""


@dataclass(frozen=True)
class Settings:
    username: str | None
    password: str | None
    token: str | None
    metrics_token: str | None
    limits: Limits
    pg_plan_max_connections: int | None
    # Logplex batches are small (hundreds of lines of at most 10 kB); 4 MiB is ample.
    max_body_bytes: int = 4 * 1024 * 1024
    # Logplex retries a batch after a failed delivery; a few thousand ids cover minutes.
    recent_frame_ids: int = 10_000

    @property
    def auth_required(self) -> bool:
        return self.username is not None


def _number(name: str, raw: str | None, default, minimum, kind=int):
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def load(env, insecure_no_auth=False, ttl=None, pg_max_connections=None, max_dynos=None):
    """Build Settings from ``env`` (a mapping) and the flags; raise SettingsError when wrong."""
    username = env.get("DRAIN_USERNAME") or None
    password = env.get("DRAIN_PASSWORD") or None
    if (username is None) != (password is None):
        raise SettingsError("set both DRAIN_USERNAME and DRAIN_PASSWORD, or neither")
    if username is None and not insecure_no_auth:
        raise SettingsError(
            "DRAIN_USERNAME and DRAIN_PASSWORD are not set; set them (they go in the drain "
            "URL), or pass --insecure-no-auth for a local replay"
        )
    if username is not None and insecure_no_auth:
        raise SettingsError("--insecure-no-auth given while DRAIN_USERNAME is set; pick one")
    ttl_raw = str(ttl) if ttl is not None else env.get("DRAIN_TTL_SECONDS")
    pg_raw = str(pg_max_connections) if pg_max_connections is not None else None
    dynos_raw = str(max_dynos) if max_dynos is not None else env.get("DRAIN_MAX_DYNOS")
    limits = Limits(
        ttl_seconds=_number("DRAIN_TTL_SECONDS (--ttl)", ttl_raw, 900.0, 0.1, float),
        max_dynos=_number("DRAIN_MAX_DYNOS (--max-dynos)", dynos_raw, 500, 1),
    )
    return Settings(
        username=username,
        password=password,
        token=env.get("DRAIN_TOKEN") or None,
        metrics_token=env.get("DRAIN_METRICS_TOKEN") or None,
        limits=limits,
        pg_plan_max_connections=_number(
            "DRAIN_PG_MAX_CONNECTIONS (--pg-max-connections)",
            pg_raw if pg_raw is not None else env.get("DRAIN_PG_MAX_CONNECTIONS"),
            None,
            1,
        ),
        max_body_bytes=_number("DRAIN_MAX_BODY_BYTES", env.get("DRAIN_MAX_BODY_BYTES"), 4 << 20, 1),
    )
