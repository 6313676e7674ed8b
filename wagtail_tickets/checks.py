from django.apps import apps
from django.core.checks import Warning, register

from . import conf


@register()
def recaptcha_installed(app_configs, **kwargs):
    if conf.recaptcha_configured() and not apps.is_installed("django_recaptcha"):
        return [
            Warning(
                "reCAPTCHA keys are set but 'django_recaptcha' is not in INSTALLED_APPS.",
                hint="Add 'django_recaptcha' to INSTALLED_APPS so its widget can render.",
                id="wagtail_tickets.W001",
            )
        ]
    return []


@register()
def required_apps(app_configs, **kwargs):
    missing = [
        app
        for app in (
            "wagtail.contrib.settings",
            "wagtail.contrib.forms",
            "wagtail.contrib.routable_page",
            "django.contrib.messages",
        )
        if not apps.is_installed(app)
    ]
    if missing:
        return [
            Warning(
                "wagtail_tickets needs these apps in INSTALLED_APPS: " + ", ".join(missing),
                id="wagtail_tickets.W002",
            )
        ]
    return []
