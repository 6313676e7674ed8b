"""Customers' log in, log out and password reset, in the support centre's look.

Django's auth views with the package's templates, wired by ``wagtail_tickets.urls``
for sites that have no customer login of their own. The reset mail's link is built
from the Wagtail Site record, never from the request's Host header, and failed logins
and reset requests are limited per visitor.
"""

import time
from urllib.parse import urlsplit

from django.conf import global_settings, settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from .. import conf
from ..models import HelpdeskPage
from ..models.tickets import hash_token
from .utils import client_ip

# Failed logins one address may make per window before it must wait for the next.
LOGIN_FAILURES_PER_WINDOW = 10
LOGIN_WINDOW_SECONDS = 15 * 60


def _window_key(scope, request, window_seconds):
    window = int(time.time() // window_seconds)
    return f"wagtail_tickets:{scope}:{client_ip(request) or 'unknown'}:{window}"


def _login_failures(request):
    return cache.get(_window_key("login-failures", request, LOGIN_WINDOW_SECONDS), 0)


def _count_login_failure(request):
    # add and incr are atomic in shared caches, so several app servers count together.
    key = _window_key("login-failures", request, LOGIN_WINDOW_SECONDS)
    cache.add(key, 0, LOGIN_WINDOW_SECONDS * 2)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, LOGIN_WINDOW_SECONDS * 2)


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "too_many": _(
            "Too many failed attempts to log in from your address. "
            "Please try again in a quarter of an hour."
        ),
    }

    def clean(self):
        if self.request is not None and _login_failures(self.request) >= (
            LOGIN_FAILURES_PER_WINDOW
        ):
            raise ValidationError(self.error_messages["too_many"], code="too_many")
        try:
            return super().clean()
        except ValidationError as error:
            if self.request is not None and getattr(error, "code", None) == "invalid_login":
                _count_login_failure(self.request)
            raise


def _support_centre_url(request):
    site = Site.find_for_request(request)
    if site is None:
        return None
    helpdesk = HelpdeskPage.objects.live().in_site(site).order_by("path").first()
    return helpdesk.get_url(request) if helpdesk is not None else None


class LoginView(auth_views.LoginView):
    template_name = "wagtail_tickets/login.html"
    authentication_form = LoginForm

    def get_default_redirect_url(self):
        if self.next_page:
            return resolve_url(self.next_page)
        if settings.LOGIN_REDIRECT_URL != global_settings.LOGIN_REDIRECT_URL:
            return resolve_url(settings.LOGIN_REDIRECT_URL)
        # Django's default, /accounts/profile/, is a page a Wagtail site does not have.
        return _support_centre_url(self.request) or "/"


class LogoutView(auth_views.LogoutView):
    def get_default_redirect_url(self):
        if self.next_page:
            return resolve_url(self.next_page)
        # Without a redirect Django renders registration/logged_out.html, which is the
        # Django admin's page on most sites.
        return resolve_url(settings.LOGOUT_REDIRECT_URL or "/")


def _reset_allowed(request, email):
    """One reset mail per address and per visitor every few minutes, as for lookups."""
    seconds = conf.get("LOOKUP_RATE_SECONDS")
    ip_key = f"wagtail_tickets:password-reset:ip:{client_ip(request) or 'unknown'}"
    email_key = f"wagtail_tickets:password-reset:email:{hash_token(email.lower())}"
    return cache.add(ip_key, 1, seconds) and cache.add(email_key, 1, seconds * 10)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "wagtail_tickets/password_reset_form.html"
    email_template_name = "wagtail_tickets/emails/password_reset_body.txt"
    subject_template_name = "wagtail_tickets/emails/password_reset_subject.txt"

    def form_valid(self, form):
        site = Site.find_for_request(self.request)
        # The same answer whether or not a mail went out, so nobody learns which
        # addresses have accounts or that a limit was hit.
        if site is None or not _reset_allowed(self.request, form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        root = urlsplit(site.root_url)
        self.extra_email_context = {
            "site_root": site.root_url,
            "site_name": site.site_name or site.hostname,
            "domain": root.netloc,
            "protocol": root.scheme,
        }
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "wagtail_tickets/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "wagtail_tickets/password_reset_confirm.html"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "wagtail_tickets/password_reset_complete.html"
