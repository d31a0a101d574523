"""The app's own series, and the registry that serves a scrape.

django-prometheus brings request, response and database-driver series. This adds open
database connections, PostgreSQL's view of its connections, the dyno's identity and, once
the server hands them over, its saturation and listen queue.

Single process (Waitress's threads, runserver): everything lives on prometheus-client's
default registry, which also carries the process and platform collectors. Multiprocess
(gunicorn's workers, ``PROMETHEUS_MULTIPROC_DIR`` set): counters, histograms and live
gauges are summed from every worker's files, and the series that describe the dyno rather
than one worker (``pg_*``, ``app_info``, the listen backlog, ``process_*`` of the whole
process tree) are collected once, by the worker serving the scrape.
"""

import os

from django.db import connections
from prometheus_client import REGISTRY, CollectorRegistry, Info, PlatformCollector
from prometheus_client.multiprocess import MultiProcessCollector

from dyno_metrics import conf, multiprocess
from dyno_metrics import connections as open_connections
from dyno_metrics.listen_queue import ListenQueueCollector, PortListenQueueCollector
from dyno_metrics.postgres import PostgresCollector, connect_kwargs_from_settings
from dyno_metrics.process_tree import ProcessTreeCollector
from dyno_metrics.waitress import WaitressCollector, listeners

_scrape_registry: CollectorRegistry | None = None


def scrape_registry() -> CollectorRegistry:
    """What /metrics renders: built once per process."""
    global _scrape_registry
    if _scrape_registry is None:
        if multiprocess.enabled():
            _scrape_registry = CollectorRegistry()
            MultiProcessCollector(_scrape_registry)
            # The server's main process is the worker's parent (gunicorn's arbiter).
            _scrape_registry.register(ProcessTreeCollector(os.getppid))
            PlatformCollector(registry=_scrape_registry)
        else:
            _scrape_registry = REGISTRY
    return _scrape_registry


_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    open_connections.register(REGISTRY)
    registry = scrape_registry()
    registry.register(PostgresCollector(postgres_connect_kwargs()))
    # Series from several dynos are told apart by this label (Heroku sets DYNO).
    Info("app", "Which dyno this process is.", registry=registry).info({"dyno": conf.dyno()})


def postgres_connect_kwargs() -> dict:
    """Where PostgreSQL's view is read: METRICS_DATABASE_URL (direct, past a pooler), else
    the app's own database."""
    database = conf.metrics_database() or connections["default"].settings_dict
    return connect_kwargs_from_settings(database)


def watch_listen_sockets(sockets, every_process: bool = False) -> None:
    """The connections waiting before the server accepts them (sockets: a callable); with
    `every_process`, also those on other processes' sockets on the same ports (gunicorn's
    workers with reuse_port)."""
    collector = PortListenQueueCollector if every_process else ListenQueueCollector
    scrape_registry().register(collector(sockets))


def watch_waitress(server) -> None:
    """Waitress's saturation, and the connections waiting before it accepts them."""
    scrape_registry().register(WaitressCollector(server))
    watch_listen_sockets(lambda: [part.socket for part in listeners(server)])
