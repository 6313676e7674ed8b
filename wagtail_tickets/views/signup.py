"""The support centre's own sign-up (HelpdeskSettings.signup_enabled), for sites without
accounts of their own: a form, a mailed link that verifies the address, then the account.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, password_validation
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import captcha, conf
from ..models import HelpdeskSettings
from ..workflow import accounts
from ..workflow.limits import RateLimited
from .utils import client_ip


class SignupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254)
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, site_settings, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = " ".join(
            password_validation.password_validators_help_texts(password_validators())
        )
        self.captcha_mode = captcha.effective_mode(site_settings)
        captcha.add_captcha_fields(self, self.captcha_mode, site_settings.min_fill_seconds)
        for field in self.fields.values():
            if field.required:
                field.widget.attrs.setdefault("required", True)

    def clean(self):
        cleaned = super().clean()
        if self.captcha_mode == "honeypot":
            captcha.clean_honeypot(self)
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            User = get_user_model()
            candidate = User(email=cleaned.get("email") or "", first_name=cleaned.get("name") or "")
            setattr(candidate, User.USERNAME_FIELD, cleaned.get("email") or "")
            try:
                password_validation.validate_password(first, candidate, password_validators())
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


#: Django's recommended validators, for sites that configure none: the sign-up is open to
#: anyone on the internet.
DEFAULT_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def password_validators():
    return password_validation.get_password_validators(
        settings.AUTH_PASSWORD_VALIDATORS or DEFAULT_VALIDATORS
    )


def _enabled_settings(request):
    site_settings = HelpdeskSettings.for_request(request)
    if not site_settings.signup_enabled:
        raise Http404
    return site_settings


def _safe_next(request, value):
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _render(request, page, template, status=200, **extra):
    context = page.get_context(request)
    context.update(extra)
    return TemplateResponse(request, template, context, status=status)


@never_cache
def signup(request, page):
    site_settings = _enabled_settings(request)
    if request.user.is_authenticated:
        return redirect(page.get_url(request) + page.reverse_subpage("account_route"))
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = SignupForm(request.POST or None, site_settings=site_settings)
    status = 200
    if request.method == "POST":
        ip = client_ip(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                accounts.request_signup(
                    email=data["email"],
                    name=data["name"],
                    password=data["password1"],
                    helpdesk=page,
                    next_url=next_url,
                    language=get_language() or "",
                    ip=ip,
                )
            except RateLimited as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(page.get_url(request) + page.reverse_subpage("signup_sent_route"))
        status = 400
    return _render(
        request,
        page,
        "wagtail_tickets/signup.html",
        status=status,
        form=form,
        next_url=next_url,
    )


@never_cache
def signup_sent(request, page):
    _enabled_settings(request)
    return _render(
        request, page, "wagtail_tickets/signup_sent.html", link_days=conf.get("SIGNUP_LINK_DAYS")
    )


@never_cache
def verify(request, page, token):
    _enabled_settings(request)
    signup = accounts.signup_for_token(token)
    if signup is None:
        return _render(request, page, "wagtail_tickets/signup_invalid.html", status=404)
    if request.method != "POST":
        # Mail scanners open links: the account is made only by the button (a POST).
        return _render(request, page, "wagtail_tickets/signup_verify.html", signup=signup)
    try:
        user = accounts.verify_signup(signup)
    except accounts.SignupError as error:
        return _render(
            request, page, "wagtail_tickets/signup_invalid.html", status=409, reason=str(error)
        )
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    messages.success(request, _("Your address is verified and your account is ready."))
    target = _safe_next(request, signup.next_url)
    return redirect(target or page.get_url(request) + page.reverse_subpage("account_route"))
