import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from app.content.models import Snippet
from app.content.seeding import SnippetFactory, batches

MAX_COUNT = 100_000_000
MAX_BATCH_SIZE = 1_000_000
PROGRESS_EVERY_SECONDS = 2.0


def bounded_int(option: str, raw: str, minimum: int, maximum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise CommandError(
            f"{option} must be an integer from {minimum:,} to {maximum:,}, got {raw!r}"
        )
    return value


class Command(BaseCommand):
    help = (
        "Add COUNT rows of 140-character Faker text (PostgreSQL COPY, one transaction: "
        "an error or Ctrl-C leaves the table as it was)."
    )

    def add_arguments(self, parser):
        # Read as text and checked in handle(), so a bad value is one line, not argparse's
        # usage block.
        parser.add_argument("--count", default="10000", help="rows to add (default 10,000)")
        parser.add_argument(
            "--batch-size", default="50000", help="rows per COPY batch (default 50,000)"
        )
        parser.add_argument(
            "--truncate", action="store_true", help="replace the table's rows instead of adding"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable rows)")

    def handle(self, *args, **options):
        count = bounded_int("--count", options["count"], 1, MAX_COUNT)
        batch_size = bounded_int("--batch-size", options["batch_size"], 1, MAX_BATCH_SIZE)
        factory = SnippetFactory(seed=options["seed"])
        started = time.monotonic()
        try:
            self._copy(factory, count, batch_size, options["truncate"])
        except KeyboardInterrupt:
            raise CommandError("interrupted: nothing was written, the table is as it was") from None
        elapsed = time.monotonic() - started
        total = Snippet.objects.count()
        self.stdout.write(
            f"Seeded {count:,} rows in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s); "
            f"the table now holds {total:,}."
        )

    def _copy(self, factory, count, batch_size, truncate) -> None:
        """All in one transaction: an error or Ctrl-C rolls every batch back."""
        table = Snippet._meta.db_table
        started = last_report = time.monotonic()
        done = 0
        with transaction.atomic(), connection.cursor() as cursor:
            if truncate:
                cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
            raw = cursor.cursor  # psycopg2's own cursor, for copy_expert
            for size in batches(count, batch_size):
                raw.copy_expert(f"COPY {table} (text) FROM STDIN", factory.copy_buffer(size))
                done += size
                if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                    last_report = time.monotonic()
                    self._progress(done, count, last_report - started)

    def _progress(self, done: int, count: int, elapsed: float):
        self.stdout.write(
            f"  {done:,}/{count:,} rows ({done / count:.0%}, {done / elapsed:,.0f} rows/s)"
        )
        self.stdout.flush()
