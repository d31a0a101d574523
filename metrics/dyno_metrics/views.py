"""/metrics, closed with a bearer token when METRICS_TOKEN is set (upstream declined this: #269).

It renders collectors.scrape_registry() rather than django-prometheus's ExportToDjangoView,
which in multiprocess mode builds a registry of the workers' files alone and so drops the
series collected once per dyno (pg_*, app_info, process_*).
"""

import hmac

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dyno_metrics import conf
from dyno_metrics.collectors import scrape_registry


def export(request):
    token = conf.metrics_token()
    if token:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            response = HttpResponse(
                "Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n",
                status=401,
                content_type="text/plain; charset=utf-8",
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
