"""The smallest Django settings that serve ``benchmarks.apps.django_app`` (no database).

The middleware is the part of Django's default project that needs no installed app or database:
every request passes through it on each of the three ways Django is served here.
"""

SECRET_KEY = "benchmarks-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "benchmarks.apps.django_app"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, object] = {}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
USE_TZ = True
