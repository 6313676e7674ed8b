"""Spam protection for anonymous forms: reCAPTCHA, or a honeypot with a signed fill time."""

import time
from datetime import timedelta

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from . import conf

HONEYPOT_FIELD = "website"
STARTED_FIELD = "form_started"
_SALT = "wagtail_tickets.captcha.started"
# Seconds a form stays sendable; a used start token is remembered this long.
START_TOKEN_MAX_AGE = 86400
# One submission in this many (chosen by its token's hash) also clears the expired used
# tokens: the table stays bounded without a DELETE in every submission.
PURGE_ONE_IN = 64


def effective_mode(site_settings, user=None):
    mode = site_settings.captcha_mode
    if user is not None and user.is_authenticated and not site_settings.captcha_for_logged_in:
        return "none"
    if mode == "auto":
        return "recaptcha" if conf.recaptcha_available() else "honeypot"
    if mode == "recaptcha" and not conf.recaptcha_available():
        # Misconfiguration must not leave the form unprotected.
        return "honeypot"
    return mode


class HoneypotInput(forms.TextInput):
    """A text input people never see; templates hide the whole field by its type."""


def signed_start():
    return signing.dumps(time.time(), salt=_SALT)


class StartedField(forms.CharField):
    widget = forms.HiddenInput

    def __init__(self, *, min_seconds, **kwargs):
        self.min_seconds = min_seconds
        super().__init__(required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            started = float(signing.loads(value, salt=_SALT, max_age=START_TOKEN_MAX_AGE))
        except (signing.BadSignature, TypeError, ValueError):
            raise forms.ValidationError(
                _("The form has expired. Please send it again."), code="expired"
            ) from None
        if time.time() - started < self.min_seconds:
            raise forms.ValidationError(
                _("The form was sent too quickly. Please check it and send it again."),
                code="too_fast",
            )
        return value


def add_captcha_fields(form, mode, min_seconds):
    """Add the fields of ``mode`` to a bound or unbound form instance."""
    if mode == "honeypot":
        form.fields[HONEYPOT_FIELD] = forms.CharField(
            required=False,
            label=_("Leave this field empty"),
            widget=HoneypotInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )
        form.fields[STARTED_FIELD] = StartedField(min_seconds=min_seconds, initial=signed_start)
    elif mode == "recaptcha":
        # Imported only here: a site without reCAPTCHA keys need not install the app.
        from django_recaptcha.fields import ReCaptchaField

        form.fields["captcha"] = ReCaptchaField(label=_("Verification"))


class TokenReused(Exception):
    """The form's signed start time was sent before: a replayed submission."""


def purges_expired_tokens(token_hash):
    return int(token_hash[:8], 16) % PURGE_ONE_IN == 0


def consume_start_token(value):
    """Record the form's start token as used; raise TokenReused if it already was.

    Call inside the transaction that stores the submission (``workflow.open_ticket``'s
    ``start_token``), so that a submission that fails does not use the token up. The
    hash is kept (in the database, shared by every app server) until the token would
    have expired anyway.
    """
    import hashlib

    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from .models import UsedFormToken
    from .workflow.limits import insert_on_conflict

    if not value:
        return
    now = timezone.now()
    token_hash = hashlib.sha256(value.encode()).hexdigest()
    expires_at = now + timedelta(seconds=START_TOKEN_MAX_AGE)
    if purges_expired_tokens(token_hash):
        UsedFormToken.objects.filter(expires_at__lt=now).delete()
    # One statement that says whether the row was new: no savepoint for an IntegrityError
    # to roll back to, and a concurrent sender of the same token waits for this
    # transaction and then finds the row.
    written = insert_on_conflict(
        UsedFormToken, {"token_hash": token_hash, "expires_at": expires_at}, "token_hash"
    )
    if written is not None:
        if written != 1:
            raise TokenReused
        return
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(token_hash=token_hash, expires_at=expires_at)
    except IntegrityError:
        raise TokenReused from None


def clean_honeypot(form):
    if form.cleaned_data.get(HONEYPOT_FIELD):
        raise forms.ValidationError(
            _("Your message looks automated and was not sent."), code="honeypot"
        )
