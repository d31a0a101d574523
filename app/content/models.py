from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact

SNIPPET_LENGTH = 140


class Snippet(models.Model):
    """One 140-character string: what the page shows, picked at random."""

    text = models.CharField(max_length=SNIPPET_LENGTH)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("text"), SNIPPET_LENGTH),
                name="snippet_text_is_140_characters",
            )
        ]

    def __str__(self):
        return self.text
