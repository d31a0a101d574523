"""``path("", include("dyno_metrics.urls"))`` in the project's urls.py serves ``/metrics``."""

from django.urls import path

from dyno_metrics.views import export

urlpatterns = [path("metrics", export, name="metrics")]
