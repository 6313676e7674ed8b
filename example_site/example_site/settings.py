"""Settings of the example helpdesk: a demo on SQLite, not a production template.

EXAMPLE_DEBUG=0 turns debug off (then `runserver --insecure` still serves static files)
and needs EXAMPLE_SECRET_KEY: the site refuses to start with debug off and the key
published here. EXAMPLE_ALLOWED_HOSTS (comma-separated) is read from the environment
when set. PORT (set by `make demo`) is the port the demo is served on.
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
# `make demo` listens on 127.0.0.1. Served on another interface (`make demo
# HOST=0.0.0.0`), the names it is reached by go in EXAMPLE_ALLOWED_HOSTS; the first one
# is also the demo Site's hostname, which links in mails are built from.
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("EXAMPLE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]
# The name the demo's Site record gets (`load_demo`), and so the links in its mails.
DEMO_HOSTNAME = next((host.lstrip(".") for host in ALLOWED_HOSTS if host != "*"), "localhost")
DEMO_PORT = int(os.environ.get("PORT") or 8000)

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
    "django_tasks",
    "django_tasks_db",
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
        # The write-ahead log makes each commit one flush and lets pages be read while
        # a ticket is written.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL",
        },
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

# The customers' login page from wagtail_tickets.urls; after logging in they land in the
# support centre.
LOGIN_URL = "login"

# Mail is printed to the console: the demo has no mail server.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"

# Notifications go through django-tasks-db's queue, as in production: `make demo` runs
# `manage.py helpdesk_worker` beside the server. Without a worker, set the ImmediateBackend
# here (django_tasks' default): the mails are then sent after each response.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Paid support's prices and balances are in roubles in the demo.
WAGTAIL_TICKETS_CURRENCY = "RUB"

WAGTAIL_SITE_NAME = "Example helpdesk"
WAGTAILADMIN_BASE_URL = f"http://{DEMO_HOSTNAME}:{DEMO_PORT}"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Without reCAPTCHA keys the forms use the honeypot, and django_recaptcha need not be
# installed. With RECAPTCHA_PUBLIC_KEY and RECAPTCHA_PRIVATE_KEY, add it to INSTALLED_APPS.
