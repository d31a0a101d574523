"""Synthetic drain traffic in Heroku's formats, for the benchmark and the long-replay test.

Mostly router lines (as a busy app's drain is), with a runtime-metrics line and an app
``sample#`` line every ten, spread round-robin over the given dynos.
"""


def messages(dynos: list[str], count: int) -> list[str]:
    lines = []
    for i in range(count):
        dyno = dynos[i % len(dynos)]
        if i % 10 == 8:
            lines.append(
                f"<45>1 2026-11-26T21:00:00+00:00 host heroku {dyno} - source={dyno} "
                "dyno=heroku.1.abc sample#memory_total=100.00MB sample#memory_rss=90.00MB "
                "sample#memory_cache=1.00MB sample#memory_swap=0.00MB sample#memory_quota=512.00MB"
            )
        elif i % 10 == 9:
            lines.append(
                f"<190>1 2026-11-26T21:00:00+00:00 host app {dyno} - source={dyno} "
                f"sample#waitress_queue_depth={i % 7} sample#waitress_threads_busy=4"
            )
        else:
            lines.append(
                "<158>1 2026-11-26T21:00:00+00:00 host heroku router - at=info method=GET "
                f'path="/item/{i}" host=cce-demo.herokuapp.com request_id=req-{i} '
                f'fwd="203.0.113.{i % 250}" dyno={dyno} connect={i % 3}ms '
                f"service={i % 400}ms status={200 if i % 50 else 503} bytes=301 protocol=https"
            )
    return lines
