"""The customer's side of paid support: "My account" and its PDF statement (routes of
HelpdeskPage), and what a paid department shows a visitor who has not logged in.

The account pages have no account id in their address: each customer only ever
reaches their own account, so there is nothing of anyone else's to ask for.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import conf
from ..models import HelpdeskSettings, SupportAccount
from ..statements import Statement, StatementFilterForm, current_grants, statement_pdf

ENTRIES_PER_PAGE = 25


def login_url(request, next_url):
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url}, safe='/')}"


def signup_url(helpdesk, site_settings, next_url, request=None):
    """The built-in sign-up form's address, or None when the site has it off."""
    if helpdesk is None or site_settings is None or not site_settings.signup_enabled:
        return None
    base = helpdesk.get_url(request) + helpdesk.reverse_subpage("signup_route")
    return f"{base}?{urlencode({'next': next_url}, safe='/')}"


def purchase_link(site_settings):
    return site_settings.purchase_link() if site_settings is not None else ""


def billing_context(request, page, quote, site_settings):
    """What the department form's cost notice needs."""
    helpdesk = page.get_helpdesk()
    here = request.get_full_path()
    return {
        "quote": quote,
        "purchase_url": purchase_link(site_settings),
        "login_url": login_url(request, here),
        "signup_url": signup_url(helpdesk, site_settings, here, request),
        "account_url": account_url(request, helpdesk),
    }


def account_url(request, helpdesk):
    if helpdesk is None:
        return None
    return helpdesk.get_url(request) + helpdesk.reverse_subpage("account_route")


def paid_department_gate(request, page, quote, site_settings):
    """A paid department to a visitor who has not logged in: what it costs and where to
    log in or sign up, in place of a form that would fail at the end."""
    context = page.get_context(request)
    context.update(
        helpdesk=page.get_helpdesk(),
        form=None,
        **billing_context(request, page, quote, site_settings),
    )
    # A POST from an old form changes nothing.
    status = 200 if request.method in ("GET", "HEAD") else 403
    return TemplateResponse(request, page.get_template(request), context, status=status)


def _statement(request, account):
    filter_form = StatementFilterForm(request.GET or None)
    start, end, _kind = filter_form.values()
    return filter_form, Statement(account, start=start, end=end)


@never_cache
def account(request, page):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    support_account = SupportAccount.objects.filter(customer_id=request.user.pk).first()
    filter_form, statement = _statement(request, support_account)
    paginator = Paginator(statement.entries().select_related("grant__pack"), ENTRIES_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    site_settings = HelpdeskSettings.for_request(request)
    context = page.get_context(request)
    context.update(
        account=support_account,
        grants=current_grants(support_account),
        statement=statement,
        filter_form=filter_form,
        page_obj=page_obj,
        query_string=query.urlencode(),
        purchase_url=purchase_link(site_settings),
        pdf_url=page.get_url(request)
        + page.reverse_subpage("statement_route")
        + (f"?{query.urlencode()}" if query else ""),
    )
    return TemplateResponse(request, "wagtail_tickets/account.html", context)


def statement_rate_limited(user):
    """At most STATEMENTS_PER_MINUTE PDFs a minute per user: they are costly to make."""
    limit = conf.get("STATEMENTS_PER_MINUTE")
    if not limit:
        return False
    key = f"wagtail_tickets:statement:{user.pk}:{timezone.now():%Y%m%d%H%M}"
    cache.add(key, 0, 70)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > limit


def pdf_response(content, filename):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
def statement(request, page):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    support_account = SupportAccount.objects.filter(customer_id=request.user.pk).first()
    if support_account is None:
        raise Http404
    if statement_rate_limited(request.user):
        response = HttpResponse(
            _("Too many statements in a minute; please wait a moment."), status=429
        )
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    _form, period = _statement(request, support_account)
    content = statement_pdf(support_account, period, request=request)
    return pdf_response(content, f"statement-{timezone.localdate():%Y-%m-%d}.pdf")
