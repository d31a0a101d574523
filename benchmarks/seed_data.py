"""seed_data's COPY against Django's bulk_create, rows per second, in one run.

    python -m benchmarks.seed_data [--rows N] [--rounds N]

Both load the same Faker rows into the same table on the same server, alternating, so
the machine's noise hits both; the figure to read is the ratio.
"""

import argparse
import io
import os
import statistics
import time

import django

from benchmarks.setup import database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = database("bench_seed", 1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from app.content.models import Snippet
    from app.content.seeding import SnippetFactory

    def copy():
        call_command("seed_data", count=str(args.rows), truncate=True, stdout=io.StringIO())

    def bulk_create():
        factory = SnippetFactory()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE content_snippet RESTART IDENTITY")
            rows = (Snippet(text=factory.snippet()) for _ in range(args.rows))
            Snippet.objects.bulk_create(rows, batch_size=5000)

    rates = {"COPY (seed_data)": [], "bulk_create(batch_size=5000)": []}
    for _ in range(args.rounds):
        for name, load in zip(rates, (copy, bulk_create), strict=True):
            started = time.perf_counter()
            load()
            rates[name].append(args.rows / (time.perf_counter() - started))
    print(f"{args.rows:,} rows of 140 characters, {args.rounds} rounds, median rows/s:")
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, rate in medians.items():
        print(f"  {name:<30} {rate:>10,.0f} rows/s")
    copy_rate, bulk_rate = medians.values()
    print(f"  COPY / bulk_create = {copy_rate / bulk_rate:.2f}x")


if __name__ == "__main__":
    main()
