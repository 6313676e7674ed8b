"""Settings for the test suite. WT_DB=postgres runs it on PostgreSQL (PG* variables)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "wagtail_tickets",
    "wagtail.contrib.forms",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_recaptcha",
    "django_tasks",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "wagtail_tickets.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("WT_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "wagtail_tickets"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # WT_SQLITE_PATH: a database file of its own (the SQLite burst test's server).
            "NAME": os.environ.get("WT_SQLITE_PATH") or BASE_DIR / "test.sqlite3",
            "TEST": {"NAME": os.environ.get("WT_SQLITE_TEST_NAME") or None},
            # As the README advises site owners: writers wait for each other (up to 20 s)
            # and take the write lock when their transaction begins, so a burst of
            # submissions queues instead of failing with "database is locked"; and a
            # write-ahead log.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": os.environ.get("WT_SQLITE_MODE", "IMMEDIATE"),
                # A write-ahead log: a commit flushes the log once instead of a
                # rollback journal and the database, and readers never wait for writers.
                "init_command": "PRAGMA journal_mode=WAL",
            },
        }
    }

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Russian")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static-collected"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("WT_MEDIA_ROOT", "/tmp/wagtail-tickets-test-media"))

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

WAGTAIL_SITE_NAME = "Test helpdesk"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Tests write bursts of customer replies to build their data; the reply limits are
# tested with explicit values (tests/test_limits.py), as on a site with the defaults.
WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_MINUTE = 0
WAGTAIL_TICKETS_CUSTOMER_REPLIES_PER_HOUR = 0

SILENCED_SYSTEM_CHECKS = ["django_recaptcha.recaptcha_test_key_error"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
