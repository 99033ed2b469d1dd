"""URL routes: the admin, the uploaded files, and the views of :mod:`admin_site.views`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path
from django.views.static import serve

from admin_site import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("stats/", views.stats),
    path("countdown/", views.countdown),
    path("export/", views.export),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
