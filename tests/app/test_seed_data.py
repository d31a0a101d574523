import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from app.content.models import Snippet

pytestmark = pytest.mark.django_db


def seed(**options):
    call_command("seed_data", stdout=io.StringIO(), **options)


def test_every_seeded_row_is_140_characters():
    seed(count="3000", batch_size="700", truncate=True)
    lengths = set(Snippet.objects.values_list("text", flat=True).iterator())
    assert len(lengths) > 2900, "rows should be varied Faker text"
    assert {len(text) for text in lengths} == {140}
    assert not any(text != text.strip() for text in lengths)


def test_seed_adds_rows_and_truncate_replaces_them():
    seed(count="100", truncate=True)
    seed(count="250")
    assert Snippet.objects.count() == 350
    seed(count="40", truncate=True)
    assert Snippet.objects.count() == 40


@pytest.mark.parametrize(
    "options, message",
    [
        ({"count": "0"}, "--count must be an integer from 1"),
        ({"count": "-5"}, "--count must be an integer from 1"),
        ({"count": "many"}, "--count must be an integer from 1"),
        ({"batch_size": "0"}, "--batch-size must be an integer from 1"),
        ({"batch_size": "2000000"}, "--batch-size must be an integer from 1"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(options, message):
    seed(count="10", truncate=True)
    with pytest.raises(CommandError, match=message):
        seed(**options)
    assert Snippet.objects.count() == 10
