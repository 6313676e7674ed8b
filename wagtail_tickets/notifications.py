"""E-mail notifications: who is told what, rendered in the ticket's language."""

import logging

from django.conf import settings

from . import conf, links, mail_retry, permissions
from .mail import compose
from .mail import headers as mail_headers
from .models import HelpdeskSettings, Message, StaffMember
from .models.ratings import SCORE_CHOICES

logger = logging.getLogger(__name__)


def from_email():
    return conf.get("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL


def send(template, context, recipients, language, reply_to=None):
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return 0
    # A retried task (mail_retry.py) skips the mails an earlier attempt handed over.
    key = mail_retry.mail_key(template, recipients)
    if mail_retry.already_sent(key):
        return 0
    composed = compose.compose(template, context, language)
    message = composed.message(from_email(), recipients, reply_to=[reply_to] if reply_to else None)
    # Message-ID (stored), threading headers, Reply-To, Auto-Submitted: mail/headers.py,
    # which marks the key sent with the stored Message-ID.
    sent = mail_headers.send(message, template, context, key=key)
    # A mail held back (a bouncing address, the auto-reply limit) is not tried again.
    mail_retry.mark_sent(key)
    return sent


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
        # A former agent (admin access taken away) is told nothing about customers.
        return [assignee.email] if wants and permissions.staff_can_access(assignee, ticket) else []
    flag = "notify_customer_replies" if reason == "reply" else "notify_new_tickets"
    addresses = list(
        StaffMember.objects.filter(
            departments=ticket.department_id,
            user__in=permissions.admin_user_ids(),
            **{flag: True},
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
        # From the support centre's Site record, never from a request's Host header.
        context["ticket_link"] = links.mail_link_url(ticket, helpdesk)
    # Staff mail links to the desk (the customer's mail never uses it).
    context["admin_link"] = links.admin_ticket_url(ticket)
    context.update(extra)
    return context


def confirmation_echoes_details(ticket, message):
    """Whether the confirmation may repeat what was submitted (subject, fields, text).

    Anyone can type any address into the form, so a confirmation that echoed the
    submission would let a stranger mail their words to that address in the site's
    name. It repeats them only when the address is the submitting account's own, or
    when an agent wrote the ticket for the customer; otherwise it carries the code, the
    department and the private link, and the rest is one click away.
    """
    if message is not None and message.source == message.Source.STAFF:
        return True
    customer = ticket.customer if ticket.customer_id else None
    return bool(
        customer is not None
        and customer.email
        and customer.email.strip().lower() == (ticket.customer_email or "").strip().lower()
    )


def ticket_opened(ticket, message):
    send(
        "ticket_opened_customer",
        _context(ticket, message, show_details=confirmation_echoes_details(ticket, message)),
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


def customer_replies(ticket, messages, *, more=0):
    """One staff mail for one or more customer replies (digests.py), oldest first.

    ``more`` counts earlier replies of the burst left out of the mail.
    """
    if not messages:
        return 0
    authors = {m.author_email for m in messages if m.author_email}
    recipients = [a for a in staff_recipients(ticket, reason="reply") if a not in authors]
    context = _context(
        ticket,
        messages[-1],
        replies=messages,
        more=more,
        window_minutes=round(conf.get("REPLY_DIGEST_SECONDS") / 60) or 0,
    )
    return send(
        "customer_replied",
        context,
        recipients,
        settings.LANGUAGE_CODE,
        reply_to=ticket.customer_email,
    )


def tickets_merged(target, sources):
    """Tell each customer of the merged tickets, once, where the conversation went on."""
    helpdesk = target.helpdesk
    by_address = {}
    for source in sources:
        if source.customer_email:
            by_address.setdefault(source.customer_email.lower(), []).append(source)
    sent = 0
    for tickets in by_address.values():
        first = tickets[0]
        context = {
            "target": target,
            "tickets": tickets,
            "helpdesk": helpdesk,
            "customer_name": first.customer_name,
            # The target's link only for its own customer: another customer's ticket
            # stays closed to them.
            "target_link": (
                links.mail_link_url(target, helpdesk)
                if helpdesk is not None
                and target.customer_email.lower() == first.customer_email.lower()
                else None
            ),
        }
        sent += send("tickets_merged", context, [first.customer_email], first.language)
    return sent


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
    """ "How did we do?": one signed link per score for the last public staff reply."""
    if helpdesk is None:
        return []
    last = (
        Message.objects.filter(ticket=ticket, is_staff_reply=True, is_internal=False)
        .order_by("-created_at", "-pk")
        .first()
    )
    if last is None:
        return []
    # From the support centre's Site record, as every link in mail.
    urls = {score: links.rating_link_url(helpdesk, last, score) for score, _label in SCORE_CHOICES}
    if None in urls.values():
        return []
    return [{"score": score, "label": label, "url": urls[score]} for score, label in SCORE_CHOICES]


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
    if ticket.assignee_id != assignee_id:
        return  # reassigned again before the mail went out
    if not permissions.staff_can_access(ticket.assignee, ticket):
        return  # no longer a desk user of the ticket's department
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


def access_links(email, tickets, helpdesk, language):
    """Mail fresh private links; ``tickets`` is a list of (ticket, raw token)."""
    entries = [
        {"ticket": ticket, "link": links.private_link_url(helpdesk, raw)} for ticket, raw in tickets
    ]
    send("access_links", {"entries": entries, "helpdesk": helpdesk}, [email], language)
