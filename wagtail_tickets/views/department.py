import json

from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from wagtail.models import Site

from .. import blank_form, captcha, deflection, kb_search, links, workflow
from ..attachments import AttachmentRules
from ..forms import TicketForm
from ..inputs import parse_id
from ..models import HelpdeskSettings
from ..workflow.limits import RateLimited, SubmissionLimits
from . import account
from .utils import submitter_info

# The confirmation travels in a short-lived signed cookie rather than the session, so
# an anonymous visitor's submission writes no session row.
THANKS_COOKIE = "wt_filed"
THANKS_SALT = "wagtail_tickets.filed"
THANKS_MAX_AGE = 600
# Hidden fields of the form, outside TicketForm: what the suggestions did for this visitor.
SHOWN_FIELD = "kb_suggestions_shown"
ARTICLE_FIELD = "article"
SUGGEST_DELAY_MS = 300


def _about_article(request, site):
    """The live, public article the visitor came from ("No, I still need help"), if any;
    anything else in the parameter is ignored."""
    value = request.POST.get(ARTICLE_FIELD) if request.method == "POST" else None
    if value is None:
        value = request.GET.get(ARTICLE_FIELD)
    article_id = parse_id(value)
    if article_id is None:
        return None
    return kb_search.live_articles(site=site).filter(pk=article_id).defer("body").first()


def _suggest_config(request, page):
    """What kb-suggest.js needs, with its sentences already in the visitor's language."""
    return {
        "url": page.get_url(request) + page.reverse_subpage("suggest_route"),
        "minLength": kb_search.SUGGEST_MIN_LENGTH,
        "delay": SUGGEST_DELAY_MS,
        "shownField": SHOWN_FIELD,
        # One sentence per possible count, since plural rules differ between languages.
        "found": {
            str(count): ngettext(
                "%(count)s article may answer your question.",
                "%(count)s articles may answer your question.",
                count,
            )
            % {"count": count}
            for count in range(1, 6)
        },
        "more": _("Search the knowledge base for “%(query)s”"),
        "newTab": _("(opens in a new tab)"),
    }


def _open_ticket(request, page, ticket_form, submitter, limits, start_token=None):
    data = ticket_form.cleaned_data
    anonymous = not request.user.is_authenticated
    return workflow.open_ticket(
        department=page,
        subject=data["subject"],
        body=data["message"],
        customer=None if anonymous else request.user,
        customer_name=data["name"],
        customer_email=data["email"],
        custom_fields=ticket_form.custom_field_values(),
        attachments=data.get("attachments") or [],
        submitter=submitter,
        limits=limits,
        start_token=start_token,
    )


def _filed(request, page, ticket, raw_token):
    """Off to the thanks page, which shows the code and the private link once."""
    thanks_url = page.get_url(request) + page.reverse_subpage("thanks_route")
    response = redirect(thanks_url)
    response.set_signed_cookie(
        THANKS_COOKIE,
        json.dumps(
            {"code": ticket.code, "link": links.private_link_url(page.get_helpdesk(), raw_token)}
        ),
        salt=THANKS_SALT,
        max_age=THANKS_MAX_AGE,
        path=thanks_url,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
def form(request, page):
    if page.login_required and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    site_settings = HelpdeskSettings.for_request(request)
    # Paid support: what this request costs, or a log-in page in place of the form.
    quote = workflow.quote_for(request.user, page, detail=request.method != "POST")
    if quote.needs_login:
        return account.paid_department_gate(request, page, quote, site_settings)
    mode = captcha.effective_mode(site_settings, request.user)
    kwargs = {
        "department": page,
        "site_settings": site_settings,
        "user": request.user,
        "captcha_mode": mode,
    }
    site = Site.find_for_request(request)
    about_article = _about_article(request, site)
    if request.method == "POST":
        ticket_form = TicketForm(request.POST, request.FILES, **kwargs)
        status = 400
        if ticket_form.is_valid():
            submitter = submitter_info(request, page)
            if about_article is not None:
                # The article the visitor read before writing is where they came from.
                submitter["referrer"] = about_article.get_full_url() or ""
            data = ticket_form.cleaned_data
            try:
                # In the workflow's one transaction: the start token is used up only if
                # the ticket is stored, and the per-hour limit is counted under its lock
                # (limits.py).
                ticket, raw_token = _open_ticket(
                    request,
                    page,
                    ticket_form,
                    submitter,
                    SubmissionLimits.from_settings(site_settings),
                    start_token=(data.get(captcha.STARTED_FIELD) if mode == "honeypot" else None),
                )
            except RateLimited as error:
                ticket_form.add_error(None, str(error))
                status = 429
            except captcha.TokenReused:
                ticket_form.add_error(
                    None,
                    _("This form has already been sent. Please check it and send it again."),
                )
                ticket_form.refresh_start_token()
            except workflow.PaymentRequired as refusal:
                # Nothing was created (the start token neither); the form keeps what was
                # typed.
                ticket_form.add_error(None, str(refusal))
                quote = workflow.quote_for(request.user, page)
                status = 402
            else:
                if request.POST.get(SHOWN_FIELD) == "1":
                    deflection.record_filed(page)
                return _filed(request, page, ticket, raw_token)
    kb_search_url = (
        kb_search.knowledge_base_search_url(page, site, request) if site is not None else None
    )
    fields_html = None
    if request.method != "POST":
        status = 200
        if blank_form.cacheable(request.user, mode):
            # The fields' HTML may come from the cache (blank_form.py); the form itself
            # is made only if something asks for it.
            rows = list(page.form_fields.all())
            kwargs.update(
                form_fields=rows, rules=AttachmentRules.for_department(page, site_settings)
            )
            ticket_form = SimpleLazyObject(lambda: TicketForm(**kwargs))
            fields_html = blank_form.blank_fields_html(
                page, rows, kwargs["rules"], mode, kb_search_url, build=lambda: ticket_form
            )
        else:
            ticket_form = TicketForm(**kwargs)
    context = page.get_context(request)
    context.update(
        form=ticket_form,
        show_form=True,
        fields_html=fields_html,
        helpdesk=page.get_helpdesk(),
        about_article=about_article,
        kb_search_url=kb_search_url,
        suggest_config=_suggest_config(request, page),
        suggestions_shown=request.method == "POST" and request.POST.get(SHOWN_FIELD) == "1",
    )
    if not quote.is_free:
        context.update(account.billing_context(request, page, quote, site_settings))
    return TemplateResponse(request, page.get_template(request), context, status=status)


@never_cache
def thanks(request, page):
    try:
        filed = json.loads(
            request.get_signed_cookie(THANKS_COOKIE, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
        )
    except (KeyError, signing.BadSignature, ValueError):
        filed = None
    context = page.get_context(request)
    helpdesk = page.get_helpdesk()
    context.update(filed=filed, helpdesk=helpdesk)
    if filed is None:
        # Opened without having just filed (a bookmark, a reload, someone else's link):
        # nothing was filed here, so say nothing of the kind, and point the way on.
        return TemplateResponse(request, "wagtail_tickets/department_thanks.html", context)
    ticket_url = None
    if request.user.is_authenticated:
        ticket_url = helpdesk.get_url(request) + helpdesk.reverse_subpage(
            "ticket_route", args=[filed["code"]]
        )
    context["ticket_url"] = ticket_url
    response = TemplateResponse(request, "wagtail_tickets/department_thanks.html", context)
    # Shown once: the link is not kept anywhere after this page.
    response.delete_cookie(THANKS_COOKIE, path=request.path, samesite="Lax")
    return response
