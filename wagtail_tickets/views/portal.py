"""The customer's side of the support centre (routes of HelpdeskPage)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, Subquery
from django.http import Http404
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import conf, links, permissions, workflow
from ..attachments import AttachmentRules
from ..downloads import attachment_response
from ..filters import CustomerTicketFilter
from ..forms import LookupForm, RatingForm, ReplyForm
from ..inputs import parse_id
from ..models import Attachment, HelpdeskSettings, Message, Ticket
from ..models.tickets import hash_token
from ..tasks import send_access_links
from ..workflow.limits import RateLimited
from . import ratings
from .knowledge import kb_indexes_under
from .utils import client_ip


def _render(request, page, template, status=200, **extra):
    context = page.get_context(request)
    context.update(extra)
    return TemplateResponse(request, template, context, status=status)


def _ticket_url(request, page, ticket):
    return page.get_url(request) + page.reverse_subpage("ticket_route", args=[ticket.code])


@never_cache
def index(request, page):
    my_tickets = None
    if request.user.is_authenticated:
        my_tickets = list(
            Ticket.objects.for_customer(request.user)
            .active()
            .select_related("status")
            .order_by("-last_message_at")[:5]
        )
    return _render(
        request,
        page,
        page.get_template(request),
        departments=page.get_departments(),
        knowledge_bases=list(kb_indexes_under(page)),
        my_tickets=my_tickets,
        lookup_form=LookupForm(),
    )


@never_cache
def ticket_list(request, page):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    departments = page.get_departments()
    queryset = (
        Ticket.objects.for_customer(request.user)
        .select_related("status", "priority", "department")
        .order_by("-last_message_at", "-pk")
    )
    ticket_filter = CustomerTicketFilter(request.GET, queryset=queryset, departments=departments)
    paginator = Paginator(ticket_filter.qs, page.tickets_per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        page,
        "wagtail_tickets/ticket_list.html",
        filter=ticket_filter,
        page_obj=page_obj,
        query_string=query.urlencode(),
    )


def _get_ticket(code):
    try:
        return Ticket.objects.select_related("status", "priority", "department", "customer").get(
            code=code
        )
    except Ticket.DoesNotExist:
        return None


def _deny(request, page):
    """No access to the ticket: the same answer whether the code exists or not, since
    codes are public and tickets are not.

    A visitor who is not logged in most likely filed the ticket anonymously and lost
    the private link, which a login page cannot give back: they get a page that says
    how tickets open and offers "Find my ticket", with logging in for account holders.
    A logged-in visitor gets a 404, as for any page that is not theirs.
    """
    if request.user.is_authenticated:
        raise Http404
    return _render(
        request,
        page,
        "wagtail_tickets/ticket_no_access.html",
        status=403,
        lookup_form=LookupForm(),
        login_url=_login_url(request),
    )


def _login_url(request):
    try:
        login = resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        return None
    return f"{login}?{urlencode({'next': request.get_full_path()}, safe='/')}"


def _rules_for(request, ticket):
    site_settings = HelpdeskSettings.for_request(request)
    if ticket.department is None:
        return AttachmentRules(frozenset(), 0, 0)
    return AttachmentRules.for_department(ticket.department, site_settings)


@never_cache
def ticket_detail(request, page, code):
    ticket = _get_ticket(code)
    if ticket is None or not permissions.customer_can_access(request, ticket):
        return _deny(request, page)
    rules = _rules_for(request, ticket)
    reply_form = ReplyForm(rules=rules)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        author = request.user if ticket.is_customer(request.user) else None
        if action == "reply":
            reply_form = ReplyForm(request.POST, request.FILES, rules=rules)
            if reply_form.is_valid():
                was_archived = ticket.is_archived
                try:
                    workflow.post_reply(
                        ticket,
                        body=reply_form.cleaned_data["message"],
                        author=author,
                        author_name=ticket.customer_name,
                        author_email=ticket.customer_email,
                        attachments=reply_form.cleaned_data.get("attachments") or [],
                    )
                except RateLimited as error:
                    # The text stays in the form; the files must be chosen again.
                    reply_form.add_error(None, str(error))
                    conversation, older = _conversation(request, ticket)
                    return _render(
                        request,
                        page,
                        "wagtail_tickets/ticket_detail.html",
                        status=429,
                        ticket=ticket,
                        conversation=conversation,
                        older_messages=older,
                        reply_form=reply_form,
                        ticket_url=_ticket_url(request, page, ticket),
                        rating_choices=RatingForm.SCORES,
                    )
                if was_archived:
                    messages.success(
                        request, _("Your reply has been sent and the ticket reopened.")
                    )
                else:
                    messages.success(request, _("Your reply has been sent."))
                return redirect(_ticket_url(request, page, ticket))
            status = 400
        elif action == "rate":
            return ratings.rate_on_page(request, ticket, _ticket_url(request, page, ticket))
        elif action == "reopen_unhappy":
            return ratings.reopen_on_page(request, ticket, _ticket_url(request, page, ticket))
        elif action in ("close", "reopen"):
            try:
                if action == "close":
                    workflow.close(ticket, user=author)
                    messages.success(request, _("The ticket has been closed."))
                else:
                    workflow.reopen(ticket, user=author)
                    messages.success(request, _("The ticket has been reopened."))
            except workflow.WorkflowError:
                messages.error(request, _("That action does not apply to this ticket now."))
            return redirect(_ticket_url(request, page, ticket))
        else:
            messages.error(request, _("Unknown action."))
            return redirect(_ticket_url(request, page, ticket))
    if request.method == "GET":
        # Only the customer (or the holder of the private link) gets this far: they
        # have read the staff replies so far.
        workflow.record_customer_view(ticket)
    conversation, older = _conversation(request, ticket)
    return _render(
        request,
        page,
        "wagtail_tickets/ticket_detail.html",
        status=status,
        ticket=ticket,
        conversation=conversation,
        older_messages=older,
        reply_form=reply_form,
        ticket_url=_ticket_url(request, page, ticket),
        rating_choices=RatingForm.SCORES,
    )


#: Messages a ticket's page shows at first, the latest; older ones come in steps of this.
MESSAGES_SHOWN = 50
MESSAGES_MAX = 5000


def _int_param(request, name):
    return parse_id(request.GET.get(name))


def _conversation(request, ticket):
    """The latest public messages, oldest first, and the "earlier messages" link or None.

    ``?messages=N`` shows the latest N (the link without JavaScript); ``?before=ID`` the
    step before message ID (conversation-older.js fetches it). Two queries whatever the
    length: the messages, picked by a subquery reading the message index backwards, and
    their attachments.
    """
    wanted = _int_param(request, "messages") or MESSAGES_SHOWN
    wanted = min(max(wanted, MESSAGES_SHOWN), MESSAGES_MAX)
    before = _int_param(request, "before")
    picked = Message.objects.filter(ticket=ticket, is_internal=False)
    if before is not None:
        wanted = MESSAGES_SHOWN
        cursor = Message.objects.filter(ticket=ticket, pk=before).values("created_at")[:1]
        picked = picked.filter(
            Q(created_at__lt=Subquery(cursor)) | Q(created_at=Subquery(cursor), pk__lt=before)
        )
    picked = picked.order_by("-created_at", "-pk").values("pk")[: wanted + 1]
    messages_ = list(
        Message.objects.filter(pk__in=Subquery(picked))
        .select_related("author", "rating")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    # Each staff reply carries its rating and whether the customer may (still) rate it.
    messages_ = ratings.annotate(messages_, HelpdeskSettings.for_request(request))
    if len(messages_) <= wanted:
        return messages_, None
    messages_ = messages_[-wanted:]
    oldest = messages_[0].pk
    query = {k: v for k, v in request.GET.items() if k not in ("before", "messages")}
    older = {
        "url": "?"
        + urlencode({**query, "messages": len(messages_) + MESSAGES_SHOWN})
        + f"#message-{oldest}",
        "fetch_url": "?" + urlencode({"before": oldest}),
        "step": MESSAGES_SHOWN,
    }
    return messages_, older


@never_cache
def attachment_download(request, page, code, pk):
    """A file of the conversation the customer sees; internal notes' files never.

    Staff download every file, notes' included, through the desk's own route, which
    checks their desk rights; here they get what the customer would get.
    """
    ticket = _get_ticket(code)
    if ticket is None:
        return _deny(request, page)
    attachment = (
        Attachment.objects.select_related("message")
        .filter(pk=pk, message__ticket=ticket, message__is_internal=False)
        .first()
    )
    may_read = permissions.customer_can_access(request, ticket) or permissions.staff_can_access(
        request.user, ticket
    )
    if not may_read:
        return _deny(request, page)
    if attachment is None:
        raise Http404
    return attachment_response(attachment)


@never_cache
def access(request, page, token):
    tickets = Ticket.objects.only("pk", "code", "access_token_hash")
    # The link the ticket was filed with, one mailed by "find my ticket", or a signed
    # link from one of our notifications; each grants for as long as it is valid.
    ticket = tickets.filter(access_token_hash=hash_token(token)).first()
    expires_at = None
    if ticket is None:
        link = workflow.find_access_link(token)
        if link is not None:
            ticket, expires_at = link.ticket, link.expires_at
            workflow.record_link_use(link)
    if ticket is None:
        signed = links.read_signed_token(token)
        ticket = links.ticket_for_signed_token(token, tickets) if signed else None
        expires_at = signed[2] if signed else None
    if ticket is None:
        return _render(
            request,
            page,
            "wagtail_tickets/access_invalid.html",
            status=404,
            lookup_form=LookupForm(),
        )
    permissions.grant_access(request, ticket, expires_at)
    # The token leaves the address bar at once so it does not travel in Referer headers.
    return redirect(_ticket_url(request, page, ticket))


@never_cache
def lookup(request, page):
    if request.method != "POST":
        return _render(request, page, "wagtail_tickets/lookup.html", lookup_form=LookupForm())
    lookup_form = LookupForm(request.POST)
    if not lookup_form.is_valid():
        return _render(
            request, page, "wagtail_tickets/lookup.html", status=400, lookup_form=lookup_form
        )
    email = lookup_form.cleaned_data["email"].lower()
    ip_key = f"wagtail_tickets:lookup:ip:{client_ip(request)}"
    email_key = f"wagtail_tickets:lookup:email:{hash_token(email)}"
    seconds = conf.get("LOOKUP_RATE_SECONDS")
    # cache.add is atomic in shared caches, so several app servers agree on the limit.
    # The links are built from the support centre's Site record in the task, never from
    # this request's Host header.
    if cache.add(ip_key, 1, seconds) and cache.add(email_key, 1, seconds * 10):
        send_access_links.enqueue(email=email, helpdesk_id=page.pk, language=get_language())
    # One answer for every address, known or not, limited or not.
    days = conf.get("LOOKUP_CLOSED_DAYS")
    messages.success(
        request,
        ngettext(
            "If we have tickets for that address that are open or were closed in the last "
            "%(days)s day, we have sent it links to them. Links you already have keep working.",
            "If we have tickets for that address that are open or were closed in the last "
            "%(days)s days, we have sent it links to them. Links you already have keep working.",
            days,
        )
        % {"days": days},
    )
    return redirect(page.get_url(request) + page.reverse_subpage("lookup_route"))
