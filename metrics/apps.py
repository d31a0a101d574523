from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """Registers the app's own collectors once Django is ready (see collectors.register)."""

    name = "metrics"

    def ready(self):
        from metrics import collectors

        collectors.register()
