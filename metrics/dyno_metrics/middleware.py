"""django-prometheus's after-middleware, recording only the series we read.

The stock middleware updates about a dozen series per request (by transport, charset,
body size, template...). Nothing in our dashboards or alerts reads those, and together
they cost about 12% of throughput here (FACTS.md). This keeps django-prometheus's own
metric objects and names, and records just the ones the contract lists: responses by
status, view and method; latency by view and method; exceptions by type and view. The
labelled children are looked up once per label set (views and statuses are few), not on
every request.
"""

import functools

from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time, TimeSince

# Views × statuses × methods stay in the dozens; the bound only guards against surprises.
LABEL_SETS = 1024


class LeanPrometheusAfterMiddleware(PrometheusAfterMiddleware):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._responses = functools.lru_cache(LABEL_SETS)(
            self.metrics.responses_by_status_view_method.labels
        )
        self._latency = functools.lru_cache(LABEL_SETS)(
            self.metrics.requests_latency_by_view_method.labels
        )

    def process_request(self, request):
        request.prometheus_after_middleware_event = Time()

    def process_view(self, request, view_func, *view_args, **view_kwargs):
        return None

    def process_template_response(self, request, response):
        return response

    def process_response(self, request, response):
        method, view = self._method(request), self._get_view_name(request)
        self._responses(status=str(response.status_code), view=view, method=method).inc()
        self._observe_latency(request, view, method)
        return response

    def process_exception(self, request, exception):
        view = self._get_view_name(request)
        self.metrics.exceptions_by_type.labels(type=type(exception).__name__).inc()
        self.metrics.exceptions_by_view.labels(view=view).inc()

    def _observe_latency(self, request, view, method):
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is None:
            self.metrics.requests_unknown_latency.inc()
        else:
            self._latency(view=view, method=method).observe(TimeSince(started))
