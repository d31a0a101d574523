from django.conf import settings
from django.urls import path

from app.content import views

urlpatterns = [
    path("", views.random_snippet, name="random_snippet"),
    path("healthz", views.healthz, name="healthz"),
]

if settings.METRICS_ENABLED:
    from metrics.views import export

    urlpatterns.append(path("metrics", export, name="metrics"))
