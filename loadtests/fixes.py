"""What a run of a fix (the cache of test 9, the pooler of test 4b) adds to its summary: the
cache's hits and fallbacks (and, with --redis-outage, the hit ratio once Redis is back), the
pool's server connections and waiting clients, and the seed's figures of the test it fixes.

Read from `samples.jsonl` (each dyno's and the pools exporter's /metrics every second), so
the figures exist with or without a Prometheus.
"""

from __future__ import annotations

from pathlib import Path

from loadtests import sampler, scenarios
from loadtests.setups import SETUPS

# After Redis is back, the app skips it for up to 2 s more (page_cache.RETRY_AFTER_FAILURE_SECONDS)
# and the first reads of each slot miss: the recovery is read from this long after the restart.
RECOVERY_SETTLE_S = 5


def _series(metrics: dict, name: str) -> float:
    return sum(v for k, v in metrics.items() if k.split("{", 1)[0] == name)


def _labelled(metrics: dict, name: str, label: str) -> float:
    return sum(v for k, v in metrics.items() if k.startswith(name + "{") and label in k)


def counter_increase(samples: list[dict], read, start: float = 0, end: float = float("inf")):
    """The growth of a counter (`read(metrics)`) between `start` and `end`, summed over the
    dynos: each dyno's last sample in the span minus its first."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for sample in samples:
        if not (start <= sample["t"] <= end) or not sample["target"].startswith("web."):
            continue
        value = read(sample["metrics"])
        first.setdefault(sample["target"], value)
        last[sample["target"]] = value
    return sum(last[target] - first[target] for target in last)


def cache_figures(samples: list[dict], start: float = 0, end: float = float("inf")) -> dict:
    def grew(name: str, label: str | None = None) -> int:
        read = (lambda m: _labelled(m, name, label)) if label else (lambda m: _series(m, name))
        return round(counter_increase(samples, read, start, end))

    hits, misses = grew("django_cache_get_hits_total"), grew("django_cache_get_misses_total")
    reads = hits + misses
    return {
        "hits": hits,
        "misses": misses,
        "hit_ratio": round(hits / reads, 4) if reads else None,
        "fallbacks_error": grew("page_cache_fallbacks_total", 'reason="error"'),
        "fallbacks_skipped": grew("page_cache_fallbacks_total", 'reason="skipped"'),
    }


def pool_figures(samples: list[dict]) -> dict:
    pools = [s["metrics"] for s in samples if s["target"] == "pgbouncer"]
    server = [
        _series(m, "pgbouncer_pools_server_active_connections")
        + _series(m, "pgbouncer_pools_server_idle_connections")
        for m in pools
    ]
    waiting = [_series(m, "pgbouncer_pools_client_waiting_connections") for m in pools]
    clients = [_series(m, "pgbouncer_pools_client_active_connections") for m in pools]
    from loadtests.pgbouncer import POOL_SIZE

    return {
        "pool_size": POOL_SIZE,
        "server_connections_max": max(server, default=None),
        "clients_waiting_max": max(waiting, default=None),
        "clients_active_max": max(clients, default=None),
    }


def figures(scenario, run_dir: Path, started: float, ended: float, outage) -> dict:
    """The summary.json fields a fix adds (none for the seed's own set-ups)."""
    setup = SETUPS[scenario.setup]
    samples = sampler.read_samples(run_dir / "samples.jsonl")
    added: dict = {}
    if setup.cache:
        added["cache"] = cache_figures(samples, started, ended)
    if outage is not None:
        added["redis_outage"] = outage.as_dict()
        if outage.restarted_at:
            added["redis_outage"]["after"] = cache_figures(
                samples, outage.restarted_at + RECOVERY_SETTLE_S, ended
            )
    if setup.pooler:
        added["pooler"] = pool_figures(samples)
    if scenario.compare_with and scenario.seed.requests_per_minute is None:
        # The seed never ran this test: show the seed's figures of the test it fixes.
        partner = scenarios.get(scenario.compare_with)
        added["seed_partner"] = {"test": partner.test, **partner.as_dict()["seed"]}
    return added


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def text(summary: dict) -> str:
    lines = [f"  {summary['connection_budget']}"] if summary.get("connection_budget") else []
    cache = summary.get("cache")
    if cache:
        lines.append(
            f"  cache: hit ratio {_ratio(cache['hit_ratio'])} ({cache['hits']:,} hits, "
            f"{cache['misses']:,} misses); database fallbacks: {cache['fallbacks_error']:,} "
            f"on errors, {cache['fallbacks_skipped']:,} while skipping Redis"
        )
    outage = summary.get("redis_outage")
    if outage:
        after = outage.get("after") or {}
        lines.append(
            f"  Redis outage from {outage['start_s']} s to {outage['end_s']} s; hit ratio from "
            f"{RECOVERY_SETTLE_S} s after it came back: {_ratio(after.get('hit_ratio'))}"
        )
    pooler = summary.get("pooler")
    if pooler:
        lines.append(
            f"  PgBouncer: at most {pooler['server_connections_max'] or 0:.0f} server "
            f"connections (pool {pooler['pool_size']}), at most "
            f"{pooler['clients_active_max'] or 0:.0f} clients active and "
            f"{pooler['clients_waiting_max'] or 0:.0f} waiting"
        )
    partner = summary.get("seed_partner")
    if partner:
        avg = partner["avg_ms"]
        lines.append(
            f"  the seed never ran test {summary['test']}; its test {partner['test']}: "
            f"{partner['requests_per_minute']:,} req/min"
            + (f", average {avg / 1000:.1f} s" if avg and avg >= 1000 else "")
            + (f", error rate {partner['error_rate']:.0%}" if partner["error_rate"] else "")
            + f" ({partner['text']})"
        )
    return "\n".join(lines) + "\n" if lines else ""
