"""The admin of :class:`~admin_site.models.Document` (found by the admin's autodiscovery)."""

from __future__ import annotations

from django.contrib import admin

from admin_site.models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "attachment")
    search_fields = ("title",)
