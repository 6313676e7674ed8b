"""Settings of the example helpdesk: a demo on SQLite, not a production template.

EXAMPLE_DEBUG=0 turns debug off (then `runserver --insecure` still serves static files)
and needs EXAMPLE_SECRET_KEY: the site refuses to start with debug off and the key
published here. EXAMPLE_ALLOWED_HOSTS (comma-separated) is read from the environment
when set.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SITE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("EXAMPLE_DEBUG", "1").lower() not in ("0", "false", "no", "off", "")
# A fixed key keeps sessions valid across restarts of the demo; never reuse it elsewhere.
PUBLISHED_SECRET_KEY = "example-site-insecure-demo-key-do-not-deploy"
SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY") or PUBLISHED_SECRET_KEY
if not DEBUG and SECRET_KEY == PUBLISHED_SECRET_KEY:
    # Anyone can read this key in the repository, and with it forge sessions, private
    # mail links and password reset tokens: a site served with debug off is a real one.
    raise ImproperlyConfigured(
        "The example site's SECRET_KEY is published with its source code. To run it with "
        "EXAMPLE_DEBUG=0, set EXAMPLE_SECRET_KEY to a long random value, for example: "
        "EXAMPLE_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
# `make demo` listens on every interface so the demo opens from another machine or a
# container's host; with debug off, only explicitly named hosts are served.
ALLOWED_HOSTS = os.environ.get(
    "EXAMPLE_ALLOWED_HOSTS", "*" if DEBUG else "localhost,127.0.0.1,[::1]"
).split(",")

INSTALLED_APPS = [
    "home",
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
    "django.middleware.security.SecurityMiddleware",
    # A 503 with Retry-After, not a 500, while the database cannot answer.
    "wagtail_tickets.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Picks the language from the browser's Accept-Language, so the demo speaks Russian
    # to a Russian browser; it needs the session before it and must precede Common.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

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
                "wagtail.contrib.settings.context_processors.settings",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DATABASE") or SITE_DIR / "db.sqlite3",
        # Writers wait for each other (up to 20 s) and take the write lock as their
        # transaction begins: a burst of visitors queues instead of "database is locked".
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = SITE_DIR / "static-collected"
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("EXAMPLE_MEDIA_ROOT") or SITE_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Mail is printed to the console: the demo has no mail server.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"

# Notifications run in the request; a real site runs a django-tasks-db worker instead.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

WAGTAIL_SITE_NAME = "Example helpdesk"
WAGTAILADMIN_BASE_URL = "http://localhost:8000"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Without reCAPTCHA keys the desk uses its honeypot; the test-key warning is noise here.
SILENCED_SYSTEM_CHECKS = ["django_recaptcha.recaptcha_test_key_error"]
