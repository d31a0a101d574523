from django.apps import AppConfig
from django.conf import settings

from dyno_metrics.deadline import bound_django_queries


class ContentConfig(AppConfig):
    name = "app.content"
    label = "content"

    def ready(self):
        # A database that stops answering fails a query after DATABASE_TIMEOUT seconds
        # (DatabaseUnavailableMiddleware answers 503) instead of holding the thread for ever.
        bound_django_queries(settings.DATABASE_TIMEOUT)
