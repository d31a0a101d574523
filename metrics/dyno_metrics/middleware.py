"""One middleware for every per-request series, placed first in MIDDLEWARE.

django-prometheus splits its work into a before- and an after-middleware, and its after one
updates about a dozen series per request (by transport, charset, body size, template...) that
nothing here reads: together they cost about 12% of throughput (FACTS.md). Each middleware
layer also costs Django a call frame and its hooks. This keeps django-prometheus's own metric
objects and names and records, in one layer, only the series the dashboards and alerts read:
requests and responses before the middlewares, responses by status, view and method, latency
by view and method, exceptions by type and view, and the router's queue time. The labelled
children are resolved once per label set (views and statuses are few), then read from a dict.

First in MIDDLEWARE, it sees every response Django returns: the 400 that Security- and
CommonMiddleware give an unknown Host (the seed's first test) is counted with its status.
"""

import time

from django_prometheus.middleware import Metrics

from dyno_metrics import queue_time

# The methods django-prometheus labels by name; anything else is one label value, so a client
# cannot grow the series.
METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH")
)
UNNAMED_VIEW = "<unnamed view>"


class Children(dict):
    """A labelled metric's children by label values, each looked up in the registry once."""

    def __init__(self, metric):
        super().__init__()
        self._metric = metric

    def __missing__(self, label_values: tuple):
        child = self[label_values] = self._metric.labels(*label_values)
        return child


def view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else None) or UNNAMED_VIEW


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        metrics = Metrics.get_instance()
        self._requests = metrics.requests_total
        self._responses = metrics.responses_total
        self._by_status = Children(metrics.responses_by_status_view_method)
        self._latency = Children(metrics.requests_latency_by_view_method)
        self._exceptions_by_type = Children(metrics.exceptions_by_type)
        self._exceptions_by_view = Children(metrics.exceptions_by_view)

    def __call__(self, request):
        started = time.perf_counter()
        self._requests.inc()
        stamp = request.META.get("HTTP_X_REQUEST_START")
        if stamp is not None:
            queue_time.observe(stamp, time.time())
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "<invalid method>"
        view = view_name(request)
        # The status as an int: labels() turns it into the label's string once, on a miss.
        self._by_status[response.status_code, view, method].inc()
        self._latency[view, method].observe(time.perf_counter() - started)
        self._responses.inc()
        return response

    def process_exception(self, request, exception):
        self._exceptions_by_type[(type(exception).__name__,)].inc()
        self._exceptions_by_view[(view_name(request),)].inc()
