"""/metrics, closed with a bearer token when METRICS_TOKEN is set (upstream declined this: #269)."""

import hmac

from django.http import HttpResponse
from django_prometheus.exports import ExportToDjangoView

from dyno_metrics import conf


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
    return ExportToDjangoView(request)
