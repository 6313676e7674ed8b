import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import captcha, workflow
from ..forms import TicketForm
from ..models import HelpdeskSettings, Ticket
from .utils import private_link, submitter_info

# The confirmation travels in a short-lived signed cookie rather than the session, so
# an anonymous visitor's submission writes no session row.
THANKS_COOKIE = "wt_filed"
THANKS_SALT = "wagtail_tickets.filed"
THANKS_MAX_AGE = 600


def _rate_limited(ip, site_settings):
    if not ip:
        return False
    since = timezone.now() - timedelta(hours=1)
    recent = Ticket.objects.filter(
        submitter_ip=ip, submitted_logged_in=False, created_at__gte=since
    ).count()
    return recent >= site_settings.anonymous_tickets_per_hour


@never_cache
def form(request, page):
    if page.login_required and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    site_settings = HelpdeskSettings.for_request(request)
    mode = captcha.effective_mode(site_settings, request.user)
    kwargs = {
        "department": page,
        "site_settings": site_settings,
        "user": request.user,
        "captcha_mode": mode,
    }
    if request.method == "POST":
        ticket_form = TicketForm(request.POST, request.FILES, **kwargs)
        if ticket_form.is_valid():
            submitter = submitter_info(request, page)
            anonymous = not request.user.is_authenticated
            if anonymous and _rate_limited(submitter["ip"], site_settings):
                ticket_form.add_error(
                    None,
                    _(
                        "Too many tickets have been sent from your address in the last hour. "
                        "Please try again later."
                    ),
                )
            else:
                data = ticket_form.cleaned_data
                ticket, raw_token = workflow.open_ticket(
                    department=page,
                    subject=data["subject"],
                    body=data["message"],
                    customer=None if anonymous else request.user,
                    customer_name=data["name"],
                    customer_email=data["email"],
                    custom_fields=ticket_form.custom_field_values(),
                    attachments=data.get("attachments") or [],
                    submitter=submitter,
                )
                thanks_url = page.get_url(request) + page.reverse_subpage("thanks_route")
                response = redirect(thanks_url)
                response.set_signed_cookie(
                    THANKS_COOKIE,
                    json.dumps(
                        {
                            "code": ticket.code,
                            "link": private_link(request, page.get_helpdesk(), raw_token),
                        }
                    ),
                    salt=THANKS_SALT,
                    max_age=THANKS_MAX_AGE,
                    path=thanks_url,
                    secure=request.is_secure(),
                    httponly=True,
                    samesite="Lax",
                )
                return response
        status = 400
    else:
        ticket_form = TicketForm(**kwargs)
        status = 200
    context = page.get_context(request)
    context.update(form=ticket_form, helpdesk=page.get_helpdesk())
    return TemplateResponse(request, page.get_template(request), context, status=status)


@never_cache
def thanks(request, page):
    try:
        filed = json.loads(
            request.get_signed_cookie(THANKS_COOKIE, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
        )
    except (KeyError, signing.BadSignature, ValueError):
        filed = None
    if filed is None:
        messages.info(request, _("Your ticket has been filed. Its link was sent to your e-mail."))
        return redirect(page.get_url(request))
    context = page.get_context(request)
    helpdesk = page.get_helpdesk()
    context.update(filed=filed, helpdesk=helpdesk)
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
