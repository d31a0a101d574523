from django.apps import AppConfig


class DynoMetricsConfig(AppConfig):
    """Registers the app's own collectors once Django is ready (see collectors.register)."""

    name = "dyno_metrics"
    label = "dyno_metrics"

    def ready(self):
        from dyno_metrics import collectors

        collectors.register()
