"""The connection budget of a run, checked before it starts: the set-up's connections
(loadtests.budget) against the scenario's database limit. A warning, never a refusal: test 4
runs anyway, to show the failure the budget predicts."""

from __future__ import annotations

from loadtests.budget import COLLECTOR_CONNECTIONS, Deployment, Verdict
from loadtests.scenarios import Scenario
from loadtests.setups import SETUPS


def scenario_budget(scenario: Scenario) -> Verdict:
    """The verdict for a local run: every dyno runs one process of the scenario's set-up."""
    setup = SETUPS[scenario.setup]
    pool_size = None
    if setup.pooler:
        from loadtests.pgbouncer import POOL_SIZE

        # PostgreSQL sees the pool, plus each process's metrics collector, which reads it
        # directly (METRICS_DATABASE_URL).
        pool_size = POOL_SIZE + scenario.dynos * COLLECTOR_CONNECTIONS
    deployment = Deployment(
        dynos=scenario.dynos,
        processes_per_dyno=1,
        connections_per_process=setup.connections_per_process,
        pool_size=pool_size,
        describe_server=f"{setup.connections_per_process} per {setup.name} process",
    )
    return Verdict(deployment, scenario.db_max_connections)


def host_budget(dynos: int | None, threads: int | None, limit: int) -> str:
    """The line for a --host run: from the --dynos/--threads hints, or a note that it is skipped."""
    if not (dynos and threads):
        return (
            "connection budget: skipped for --host (give --dynos and --threads of the deployed "
            "app to check it, or run `make plan`)"
        )
    deployment = Deployment(dynos, 1, threads, describe_server=f"{threads} Waitress threads")
    return Verdict(deployment, limit).line()
