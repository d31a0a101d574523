"""Prometheus alerting and recording rules, and Prometheus configuration, as Python.

See README.md in this folder. The load-test runner uses `prometheus_config()` to write a
per-run prometheus.yml.
"""

from metrics.alerting.prometheus_config import prometheus_config

__all__ = ["prometheus_config"]
