"""The example site in its production shape: PostgreSQL, Redis, a task worker, SMTP.

Everything that differs between machines comes from the environment; nothing secret
is written here. ``bench/load/run.py`` (``make load``) starts this shape on loopback,
and README "Production notes" describes each setting.

Required:
  DJANGO_SECRET_KEY        a long random value (the site refuses the published one)
  DJANGO_ALLOWED_HOSTS     comma-separated host names the site answers to
  PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE   the database (libpq's names)
Optional:
  REDIS_URL                the shared cache (default redis://127.0.0.1:6379/0)
  EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS
  DJANGO_STATIC_ROOT, DJANGO_MEDIA_ROOT   where collectstatic writes and uploads go
  WAGTAIL_TICKETS_PRIVATE_ROOT            ticket attachments (never served directly)
  WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS    the customer replies' digest window
  DJANGO_CONN_MAX_AGE      seconds a worker keeps its database connection (default 60)
  DJANGO_BEHIND_TLS_PROXY  "1" (the default): a proxy terminates HTTPS in front of the
                           app servers and sets X-Forwarded-Proto and X-Forwarded-For
"""

import os

from django.core.exceptions import ImproperlyConfigured


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name, default):
    return _env(name, default).lower() in ("1", "true", "yes", "on")


SECRET_KEY = _env("DJANGO_SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY to a long random value (50 characters or more), e.g. "
        "$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
# The example's apps, middleware, templates and languages; the machines are below.
os.environ["EXAMPLE_DEBUG"] = "0"
os.environ["EXAMPLE_SECRET_KEY"] = SECRET_KEY
from .settings import *  # noqa: E402,F403
from .settings import PUBLISHED_SECRET_KEY  # noqa: E402

if SECRET_KEY == PUBLISHED_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is the example's published key.")
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in _env("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS to the names the site is reached by.")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        # Empty values let libpq read PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
        "NAME": _env("PGDATABASE", "wagtail_tickets"),
        "HOST": _env("PGHOST", ""),
        "PORT": _env("PGPORT", ""),
        "USER": _env("PGUSER", ""),
        "PASSWORD": _env("PGPASSWORD", ""),
        # One connection per app process, kept between requests; checked before reuse so
        # a database restart costs the next request a reconnect, not a 500.
        "CONN_MAX_AGE": int(_env("DJANGO_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5},
    }
}

# One cache for every app process: the package's cached lookup rows and settings, and
# Django's own, must agree across processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": _env("DJANGO_CACHE_PREFIX", "wagtail-tickets"),
        "TIMEOUT": 300,
    }
}
# Sessions survive a cache restart in the database; the cache serves reads.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Notifications leave through the task queue (the database), sent by `manage.py
# helpdesk_worker --worker-id mail-N` processes beside the app servers.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = _env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(_env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = _env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _flag("EMAIL_USE_TLS", "0")
EMAIL_TIMEOUT = int(_env("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = _env("DJANGO_DEFAULT_FROM_EMAIL", "helpdesk@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# collectstatic copies here; the web server (or a CDN) serves /static/ from it.
STATIC_ROOT = _env("DJANGO_STATIC_ROOT", str(SITE_DIR / "static-collected"))  # noqa: F405
STORAGES = {
    # Wagtail's images and documents; ticket attachments are kept apart (below).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
MEDIA_ROOT = _env("DJANGO_MEDIA_ROOT", str(SITE_DIR / "media"))  # noqa: F405
# Ticket attachments: a folder no web server serves (default: "private" next to
# MEDIA_ROOT), or WAGTAIL_TICKETS_ATTACHMENT_STORAGE naming a private bucket in STORAGES.
if _env("WAGTAIL_TICKETS_PRIVATE_ROOT"):
    WAGTAIL_TICKETS_PRIVATE_ROOT = _env("WAGTAIL_TICKETS_PRIVATE_ROOT")

# HTTPS is terminated by the proxy in front of gunicorn.
if _flag("DJANGO_BEHIND_TLS_PROXY", "1"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The proxy appends the client's address; rate limits count per visitor, not per
    # proxy.
    WAGTAIL_TICKETS_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(_env("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "1")
SECURE_HSTS_PRELOAD = _flag("DJANGO_HSTS_PRELOAD", "0")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS preload is the owner's decision, not the package's.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

if _env("WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS"):
    WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS = int(_env("WAGTAIL_TICKETS_REPLY_DIGEST_SECONDS"))

WAGTAILADMIN_BASE_URL = _env("WAGTAILADMIN_BASE_URL", f"https://{ALLOWED_HOSTS[0]}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("DJANGO_LOG_LEVEL", "WARNING")},
}
