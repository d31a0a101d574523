"""PostgreSQL backend counting connections, connection errors, queries and query errors.

django-prometheus's own backend does this too, and also times every query into a histogram
we do not read; looking its label children up on every query cost a measurable share of the
page's CPU (benchmarks/README.md). This keeps django-prometheus's metric objects and names
(`django_db_new_connections_total`, `django_db_new_connection_errors_total`,
`django_db_execute_total`, `django_db_errors_total`) and resolves the labelled children once
per connection's cursor class. ENGINE: "dyno_metrics.db".
"""

import functools

from django.db.backends.postgresql import base
from django_prometheus.db import (
    connection_errors_total,
    connections_total,
    errors_total,
    execute_many_total,
    execute_total,
)


@functools.cache
def counting_cursor(cursor_class: type, alias: str, vendor: str) -> type:
    executed = execute_total.labels(alias, vendor)
    executed_many = execute_many_total.labels(alias, vendor)

    class CountingCursor(cursor_class):
        def execute(self, query, vars=None):
            executed.inc()
            try:
                return super().execute(query, vars)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise

        def executemany(self, query, vars_list):
            vars_list = list(vars_list)
            executed.inc(len(vars_list))
            executed_many.inc(len(vars_list))
            try:
                return super().executemany(query, vars_list)
            except Exception as error:
                errors_total.labels(alias, vendor, type(error).__name__).inc()
                raise

    return CountingCursor


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connections_total.labels(self.alias, self.vendor).inc()
        try:
            return super().get_new_connection(conn_params)
        except Exception:
            connection_errors_total.labels(self.alias, self.vendor).inc()
            raise

    def get_connection_params(self):
        params = super().get_connection_params()
        params["cursor_factory"] = counting_cursor(
            params["cursor_factory"], self.alias, self.vendor
        )
        return params
