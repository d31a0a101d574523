from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from app.content import page_cache

PLAIN_TEXT = "text/plain; charset=utf-8"

# A random id between the smallest and largest, then the first row at or after it:
# two index lookups whatever the table's size (ORDER BY random() scans it all), and a
# gap in the ids (deleted rows) just lands on the next row.
RANDOM_ROW = """
    SELECT text FROM content_snippet
    WHERE id >= (
        SELECT min(id) + floor(random() * (max(id) - min(id) + 1))::bigint
        FROM content_snippet
    )
    ORDER BY id
    LIMIT 1
"""


def random_row() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(RANDOM_ROW)
        row = cursor.fetchone()
    return row[0] if row else None


@require_safe
def random_snippet(request):
    text = page_cache.snippet(random_row)
    if text is None:
        return HttpResponse(
            "No content yet: run ./manage.py seed_data\n", status=503, content_type=PLAIN_TEXT
        )
    return HttpResponse(text, content_type=PLAIN_TEXT)


@require_safe
def healthz(request):
    # A database that does not answer raises here; DatabaseUnavailableMiddleware turns it
    # into a 503 within the connect_timeout set in settings.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type=PLAIN_TEXT)
