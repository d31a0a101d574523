"""The page, through the real app process (Waitress) and Django's test client."""

import pytest
import requests

from app.content.models import Snippet


def test_the_page_is_a_random_140_character_row(app_url):
    bodies = []
    for _ in range(60):
        response = requests.get(f"{app_url}/", timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        bodies.append(response.text)
    assert {len(body) for body in bodies} == {140}
    assert len(set(bodies)) > 30, "the page should pick a different row most times"


def test_healthz_answers_200_while_the_database_answers(app_url):
    response = requests.get(f"{app_url}/healthz", timeout=5)
    assert (response.status_code, response.text) == (200, "ok\n")


def test_an_unknown_host_is_a_400_not_a_500(app_url):
    response = requests.get(f"{app_url}/", headers={"Host": "cce-example.herokuapp.com"}, timeout=5)
    assert response.status_code == 400


def test_only_safe_methods_are_allowed(app_url):
    assert requests.post(f"{app_url}/", timeout=5).status_code == 405


def test_a_body_over_the_cap_is_refused_with_413_before_any_view(app_url):
    # WAITRESS_MAX_REQUEST_BODY_SIZE, 64 KiB by default: Waitress refuses a body of that
    # size or more as soon as it reads Content-Length.
    assert requests.post(f"{app_url}/", data=b"x" * 65536, timeout=10).status_code == 413
    # Under the cap the view itself answers, and only GET and HEAD are allowed.
    assert requests.post(f"{app_url}/", data=b"x" * 65535, timeout=10).status_code == 405


@pytest.mark.django_db
def test_an_empty_table_answers_503_with_a_hint(client):
    Snippet.objects.all().delete()
    response = client.get("/")
    assert response.status_code == 503
    assert response.content.decode() == "No content yet: run ./manage.py seed_data\n"


@pytest.mark.django_db
def test_gaps_in_the_ids_never_produce_errors(client):
    Snippet.objects.all().delete()
    kept = [Snippet.objects.create(text=f"{i:03d}" + "x" * 137) for i in range(10)]
    # Leave only every third row: random ids mostly land in gaps.
    Snippet.objects.exclude(pk__in=[s.pk for s in kept[::3]]).delete()
    seen = set()
    for _ in range(80):
        response = client.get("/")
        assert response.status_code == 200
        seen.add(response.content.decode())
    assert seen == {s.text for s in kept[::3]}


@pytest.mark.django_db
def test_picking_a_row_reads_the_index_and_neither_scans_nor_sorts(seeded):
    from django.db import connection

    from app.content.views import RANDOM_ROW

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE content_snippet")
        cursor.execute("EXPLAIN " + RANDOM_ROW)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan and "Sort" not in plan, plan
    assert "content_snippet_pkey" in plan, plan
