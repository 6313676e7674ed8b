from django.apps import apps
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from . import conf


@register()
def recaptcha_installed(app_configs, **kwargs):
    """reCAPTCHA is optional, but with keys set the forms render django-recaptcha's widget.

    Without keys (the honeypot) the package never imports django_recaptcha, so a site
    need not list it. A site setting that forces reCAPTCHA without keys falls back to
    the honeypot, so only the keys decide.
    """
    if conf.recaptcha_configured() and not apps.is_installed("django_recaptcha"):
        return [
            Error(
                "RECAPTCHA_PUBLIC_KEY and RECAPTCHA_PRIVATE_KEY are set, but "
                "'django_recaptcha' is not in INSTALLED_APPS, so the ticket forms cannot "
                "show reCAPTCHA.",
                hint=(
                    "Add 'django_recaptcha' to INSTALLED_APPS (it comes with wagtail-tickets; "
                    "otherwise pip install django-recaptcha), or remove both keys to use "
                    "the honeypot."
                ),
                id="wagtail_tickets.E001",
            )
        ]
    return []


# The apps the package builds on; the README's install step adds those a site made by
# `wagtail start` lacks.
REQUIRED_APPS = (
    "wagtail.contrib.settings",
    "wagtail.contrib.forms",
    "wagtail.contrib.routable_page",
    "django.contrib.messages",
    "django_filters",
)


@register()
def required_apps(app_configs, **kwargs):
    missing = [app for app in REQUIRED_APPS if not apps.is_installed(app)]
    if missing:
        return [
            Warning(
                "wagtail_tickets needs these apps in INSTALLED_APPS: " + ", ".join(missing),
                id="wagtail_tickets.W002",
            )
        ]
    return []


@register()
def attachment_storage_is_private(app_configs, **kwargs):
    """The attachments' folder must not be one the web server serves."""
    from pathlib import Path

    from django.conf import settings

    from . import storage

    alias = storage.storage_alias()
    if alias:
        if alias not in getattr(settings, "STORAGES", {}):
            return [
                Error(
                    f"WAGTAIL_TICKETS_ATTACHMENT_STORAGE names {alias!r}, which is not in "
                    "STORAGES.",
                    id="wagtail_tickets.E003",
                )
            ]
        return []
    try:
        root = storage.private_root().resolve()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="wagtail_tickets.E004")]
    served = [
        Path(folder).resolve()
        for folder in (settings.MEDIA_ROOT, getattr(settings, "STATIC_ROOT", None))
        if folder
    ]
    if any(root == folder or folder in root.parents for folder in served):
        return [
            Warning(
                f"Ticket attachments are kept in {root}, inside MEDIA_ROOT or STATIC_ROOT, "
                "which web servers usually serve to anyone.",
                hint="Set WAGTAIL_TICKETS_PRIVATE_ROOT to a folder outside them.",
                id="wagtail_tickets.W005",
            )
        ]
    return []
