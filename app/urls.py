from django.conf import settings
from django.urls import include, path

from app.content import views

urlpatterns = [
    path("", views.random_snippet, name="random_snippet"),
    path("healthz", views.healthz, name="healthz"),
]

if settings.METRICS_ENABLED:
    urlpatterns.append(path("", include("dyno_metrics.urls")))
