"""The one model: a titled document with an uploaded file, edited in the admin."""

from __future__ import annotations

from django.db import models


class Document(models.Model):
    """A title and a file stored under ``MEDIA_ROOT/documents/``."""

    title = models.CharField(max_length=200)
    attachment = models.FileField(upload_to="documents/")

    def __str__(self) -> str:
        return self.title
