"""E-mail notifications: who is told what, rendered in the ticket's language."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from . import conf, links
from .models import HelpdeskSettings, Message, StaffMember
from .models.ratings import SCORE_CHOICES

logger = logging.getLogger(__name__)


def from_email():
    return conf.get("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL


def render_mail(template, context, language):
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"wagtail_tickets/emails/{template}_subject.txt", context)
        body = render_to_string(f"wagtail_tickets/emails/{template}_body.txt", context)
    return " ".join(subject.split()), body


def send(template, context, recipients, language, reply_to=None):
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return 0
    subject, body = render_mail(template, context, language)
    message = EmailMessage(
        subject, body, from_email(), recipients, reply_to=[reply_to] if reply_to else None
    )
    return message.send()


def _site_settings(ticket):
    department = ticket.department
    site = department.get_site() if department else None
    if site is None:
        return None
    return HelpdeskSettings.for_site(site)


def staff_recipients(ticket, *, reason):
    """Addresses of the staff to tell: the assignee, else the department's staff."""
    if ticket.assignee_id:
        assignee = ticket.assignee
        profile = StaffMember.objects.filter(user=assignee).first()
        wants = profile is None or (
            profile.notify_customer_replies if reason == "reply" else profile.notify_new_tickets
        )
        return [assignee.email] if assignee.is_active and wants else []
    flag = "notify_customer_replies" if reason == "reply" else "notify_new_tickets"
    addresses = list(
        StaffMember.objects.filter(
            departments=ticket.department_id, user__is_active=True, **{flag: True}
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if addresses:
        return addresses
    site_settings = _site_settings(ticket)
    if site_settings and site_settings.notify_email:
        return [site_settings.notify_email]
    return list(conf.get("FALLBACK_STAFF_EMAILS"))


def _context(ticket, message=None, **extra):
    helpdesk = ticket.helpdesk
    context = {
        "ticket": ticket,
        "message": message,
        "helpdesk": helpdesk,
        "custom_fields": [f for f in ticket.custom_fields if f.get("value") not in (None, "", [])],
    }
    if helpdesk is not None:
        context["ticket_link"] = links.mail_link_url(ticket, helpdesk)
    context.update(extra)
    return context


def ticket_opened(ticket, message):
    send(
        "ticket_opened_customer",
        _context(ticket, message),
        [ticket.customer_email],
        ticket.language,
    )
    send(
        "ticket_opened_staff",
        _context(ticket, message),
        staff_recipients(ticket, reason="new"),
        settings.LANGUAGE_CODE,
        reply_to=ticket.customer_email,
    )


def reply_posted(ticket, message):
    if message.is_internal:
        return
    if message.is_staff_reply:
        send("staff_replied", _context(ticket, message), [ticket.customer_email], ticket.language)
    else:
        send(
            "customer_replied",
            _context(ticket, message),
            [a for a in staff_recipients(ticket, reason="reply") if a != message.author_email],
            settings.LANGUAGE_CODE,
            reply_to=ticket.customer_email,
        )


def status_changed(ticket, new_status):
    if new_status.kind in ("resolved", "closed"):
        resolved = new_status.kind == "resolved"
        context = _context(ticket)
        if resolved:
            context["rating_links"] = rating_links(ticket, context.get("helpdesk"))
        send(
            "ticket_resolved" if resolved else "ticket_closed",
            context,
            [ticket.customer_email],
            ticket.language,
        )


def rating_links(ticket, helpdesk):
    """"How did we do?": one signed link per score for the last public staff reply."""
    if helpdesk is None:
        return []
    last = (
        Message.objects.filter(ticket=ticket, is_staff_reply=True, is_internal=False)
        .order_by("-created_at", "-pk")
        .first()
    )
    if last is None:
        return []
    base = helpdesk.get_full_url()
    return [
        {"score": score, "label": label, "url": links.rating_link_url(helpdesk, last, score, base)}
        for score, label in SCORE_CHOICES
    ]


def unhappy_rating(ticket, rating, *, reopened, by_customer):
    """Tell the assignee (or the department's staff) about a rating of 1 or 2, and about
    the customer reopening the ticket after it."""
    send(
        "rating_unhappy",
        _context(ticket, rating.message, rating=rating, reopened=reopened, by_customer=by_customer),
        staff_recipients(ticket, reason="reply"),
        settings.LANGUAGE_CODE,
        reply_to=ticket.customer_email,
    )


def assigned(ticket, assignee_id):
    """Tell the new assignee, unless they asked not to be told."""
    if ticket.assignee_id != assignee_id or not ticket.assignee.is_active:
        return  # reassigned again before the mail went out
    profile = StaffMember.objects.filter(user_id=assignee_id).first()
    if profile is not None and not profile.notify_assigned:
        return
    send(
        "ticket_assigned",
        _context(ticket),
        [ticket.assignee.email],
        settings.LANGUAGE_CODE,
        reply_to=ticket.customer_email,
    )


def access_links(email, tickets, helpdesk, base_url, language):
    """Mail fresh private links; ``tickets`` is a list of (ticket, raw token)."""
    entries = [
        {"ticket": ticket, "link": links.private_link_url(helpdesk, raw, base_url)}
        for ticket, raw in tickets
    ]
    send("access_links", {"entries": entries, "helpdesk": helpdesk}, [email], language)
