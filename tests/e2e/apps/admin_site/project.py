"""Configure the admin project in code: settings, a fresh data directory, a superuser."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command

#: The superuser the tests log in as.
USERNAME = "admin"
PASSWORD = "e2e-only-password"


def configure() -> None:
    """Configure settings, set Django up, migrate, and create the superuser (once per process)."""
    if settings.configured:
        return
    data_dir = Path(tempfile.mkdtemp(prefix="bridge-e2e-admin-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    settings.configure(
        DEBUG=False,
        SECRET_KEY="e2e-only-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF="admin_site.urls",
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "admin_site",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(data_dir / "db.sqlite3"),
                "OPTIONS": {"timeout": 30},
            }
        },
        # A fast hasher: the tests log in a few times per server, not to test hashing.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STATIC_URL="static/",
        # WhiteNoise serves the apps' static files straight from their finders (no collectstatic).
        WHITENOISE_USE_FINDERS=True,
        MEDIA_URL="media/",
        MEDIA_ROOT=str(data_dir / "media"),
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
    )
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    from django.contrib.auth.models import User

    User.objects.create_superuser(USERNAME, "admin@example.invalid", PASSWORD)
