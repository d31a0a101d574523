"""The seed's load tests as data: who the users are, how fast they ask, what serves them.

Adding a scenario (the Redis cache `9`, PgBouncer `4b`) is one more `Scenario` in
`SCENARIOS`, plus a server set-up in `loadtests.setups` when it needs a new one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# Every seed test ran five minutes.
SEED_DURATION_S = 300

# Users at 4 requests a minute each: the pace of test 5 (20,000 req/min from 5,000 users),
# test 2 (2,000 from 500) and test 7 (36,000 from 10,000, within 10%). Where the seed's
# server could not keep up (tests 3, 4, 6, 8) its users offered this same pace and the
# slow responses cut what they achieved, which is what constant pacing reproduces.
SEED_PACE_PER_USER_PER_MINUTE = 4.0

# Heroku's hobby PostgreSQL allowed 20 connections: the limit test 4 ran into.
HEROKU_HOBBY_MAX_CONNECTIONS = 20

# Users per Locust process: each user holds a socket, the file limit here is 20,000, and one
# Locust process stays under 70% of a core at 16,000 users at the seed's pace.
USERS_PER_LOCUST_PROCESS = 10_000


@dataclass(frozen=True)
class SeedFigures:
    """What the seed wrote down for a test on Heroku."""

    users: int
    requests_per_minute: int | None
    requests: int | None
    error_rate: float | None = None
    avg_ms: int | None = None
    max_ms: int | None = None
    text: str = ""


@dataclass(frozen=True)
class Scenario:
    """One load test: the load, the server set-up it runs against, and the seed's figures."""

    test: str
    users: int
    pace_per_user_per_minute: float
    setup: str  # a key of loadtests.setups.SETUPS
    seed: SeedFigures
    dynos: int = 1
    duration_s: int = SEED_DURATION_S
    # The seed ran every test against the same hobby database, so every scenario gets its cap.
    db_max_connections: int = HEROKU_HOBBY_MAX_CONNECTIONS
    # The test this one is read against ("3 vs 2"): the summary shows the ratio.
    compare_with: str | None = None
    # The default --scale: the multiple of the seed's users (each at the seed's pace) that
    # shows the test's symptom with each local dyno capped at loadtests.dyno_cpu's share of a
    # core. 1 is the seed's own load; see loadtests/README.md, "Choosing the scale", for the
    # measurements behind each value.
    local_scale: float = 1.0
    # The scale this copy runs at (set by `scaled`).
    scale: float = 1.0

    @property
    def label(self) -> str:
        """The `scenario` label on the load generator's metrics."""
        return f"test{self.test}"

    @property
    def pacing_s(self) -> float:
        """Seconds between the starts of one user's requests."""
        return 60.0 / self.pace_per_user_per_minute

    def scaled(
        self, scale: float | None = None, duration_s: int | None = None, users: int | None = None
    ) -> Scenario:
        """The scenario as it runs: the seed's users times `scale` (default: `local_scale`),
        each at the seed's pace, so the request rate scales with them; or exactly `users`."""
        if users is not None:
            scale = users / self.users
        scale = scale or self.local_scale
        return dataclasses.replace(
            self,
            users=users or max(1, round(self.users * scale)),
            duration_s=duration_s or self.duration_s,
            scale=round(scale, 4),
        )

    @property
    def offered_requests_per_minute(self) -> float:
        return self.users * self.pace_per_user_per_minute

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"label": self.label, "pacing_s": self.pacing_s}


def _seed_pace(requests_per_minute: int, users: int) -> float:
    return requests_per_minute / users


SCENARIOS: dict[str, Scenario] = {
    s.test: s
    for s in [
        Scenario(
            test="1",
            users=500,
            # 3,600 req/min from 500 users: the 400s came back fast enough to keep this pace.
            pace_per_user_per_minute=_seed_pace(3600, 500),
            setup="no_page",
            seed=SeedFigures(
                500,
                3600,
                18_000,
                error_rate=1.0,
                avg_ms=600,
                max_ms=4000,
                text="We never set up a page, so everything was a 400 error",
            ),
        ),
        Scenario(
            test="2",
            users=500,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="gunicorn_sync",
            seed=SeedFigures(
                500,
                2000,
                10_000,
                error_rate=0.0,
                avg_ms=47,
                max_ms=150,
                text="All 200s; average about 47 ms, max around 150 ms",
            ),
        ),
        Scenario(
            test="3",
            users=5000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="gunicorn_sync",
            compare_with="2",
            # One sync worker on a local dyno's CPU still serves the seed's 5,000 users (333
            # req/s) at 14 ms: cheaper per request than the seed's. At 10,000 users it queues
            # for seconds, as the seed's did.
            local_scale=2.0,
            seed=SeedFigures(
                5000,
                9000,
                45_000,
                avg_ms=14_000,
                text="Average response of 14 seconds",
            ),
        ),
        Scenario(
            test="4",
            users=5000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="gunicorn_gevent",
            seed=SeedFigures(
                5000,
                1800,
                9000,
                error_rate=0.9,
                text="Error rate of almost 90%: too many database connections",
            ),
        ),
        Scenario(
            test="5",
            users=5000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="waitress",
            seed=SeedFigures(
                5000,
                20_000,
                100_000,
                error_rate=0.0,
                avg_ms=178,
                text="0% error rate, 178 ms average response time",
            ),
        ),
        Scenario(
            test="6",
            users=10_000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="waitress",
            compare_with="5",
            seed=SeedFigures(
                10_000,
                21_500,
                108_000,
                avg_ms=9000,
                text="Peak concurrency: errors went up, average about 9 seconds",
            ),
        ),
        Scenario(
            test="7",
            users=10_000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="waitress",
            dynos=2,
            compare_with="6",
            seed=SeedFigures(
                10_000,
                36_000,
                180_000,
                avg_ms=215,
                text="A second dyno: back down to 215 ms",
            ),
        ),
        Scenario(
            test="8",
            users=15_000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="waitress",
            dynos=2,
            compare_with="7",
            seed=SeedFigures(
                15_000,
                30_000,
                150_000,
                avg_ms=11_000,
                text="Response time went up to 11 s: peak concurrency again",
            ),
        ),
        # Past the seed's story: the fixes it names (a cache) or that its failure calls for
        # (a pooler), each read against the test it fixes. The seed never ran them: no
        # figures of its own (the summary shows its partner's for comparison).
        Scenario(
            test="9",
            users=15_000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="waitress_redis",
            dynos=2,
            compare_with="8",
            seed=SeedFigures(
                15_000,
                None,
                None,
                text="Not run by the seed: \"let's not hit the database, but let's hit Redis\"",
            ),
        ),
        Scenario(
            test="4b",
            users=5000,
            pace_per_user_per_minute=SEED_PACE_PER_USER_PER_MINUTE,
            setup="gunicorn_gevent_pgbouncer",
            compare_with="4",
            seed=SeedFigures(5000, None, None, text="Not run by the seed: test 4 behind PgBouncer"),
        ),
    ]
}


class UnknownScenario(ValueError):
    pass


def get(test: str) -> Scenario:
    try:
        return SCENARIOS[str(test)]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise UnknownScenario(f"unknown test {test!r} (known: {known})") from None
