"""Contexts for previews and test mails of notification templates.

``sample(event)`` builds, for every registered event, a context shaped like the one its
sending code builds, from made-up data in the active language (nothing is saved).
``for_ticket(event, ticket)`` builds it from one of the desk's tickets, for the events
about a ticket; the caller checks that the user may see the ticket.

Links in these contexts never work: a preview or a test mail must not hand anybody a
way into a customer's ticket, so they point at an access route with a made-up token.
"""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone
from django.utils.translation import gettext

from ..models import (
    DepartmentPage,
    HelpdeskPage,
    IncidentGrant,
    IncidentPack,
    LedgerEntry,
    Message,
    Priority,
    Status,
    Ticket,
)

EXAMPLE_TOKEN = "example-link-not-valid"


class _Attachments:
    def __init__(self, names):
        self._items = [SimpleNamespace(original_name=name) for name in names]

    def all(self):
        return self._items


class SampleMessage:
    """Stands in for a Message (an unsaved one cannot list attachments)."""

    is_internal = False
    email_message_id = ""
    source = Message.Source.WEB

    def __init__(self, body, *, attachments=(), minutes_ago=0, author_email=""):
        self.body = body
        self.attachments = _Attachments(attachments)
        self.created_at = timezone.now() - timedelta(minutes=minutes_ago)
        self.author_email = author_email


def helpdesk():
    return HelpdeskPage.objects.live().order_by("path").first()


def example_link(helpdesk_page, token=EXAMPLE_TOKEN):
    """A link shaped like a private link that opens nothing."""
    if helpdesk_page is None:
        return f"https://example.com/support/access/{token}/"
    return (
        helpdesk_page.get_full_url().rstrip("/")
        + "/"
        + helpdesk_page.reverse_subpage("access_route", args=[token])
    )


def example_rating_links(helpdesk_page):
    """One made-up rating link per score, as the resolve mail lists them."""
    from ..models.ratings import SCORE_CHOICES

    return [
        {"score": score, "label": label, "url": example_page_link(helpdesk_page, f"rate/{score}/")}
        for score, label in SCORE_CHOICES
    ]


def example_page_link(helpdesk_page, path):
    base = helpdesk_page.get_full_url().rstrip("/") if helpdesk_page else "https://example.com"
    return f"{base}/{path}"


def _ticket(number=123, subject=None):
    return Ticket(
        code=f"SUP-{number:06d}",
        subject=subject or gettext("The printer prints blank pages"),
        customer_name=gettext("Anna Petrova"),
        customer_email="anna.petrova@example.com",
        department=DepartmentPage(title=gettext("Technical support")),
        status=Status(name=gettext("Open"), kind=Status.Kind.OPEN),
        priority=Priority(name=gettext("Normal")),
        custom_fields=[
            {"label": gettext("Printer model"), "type": "singleline", "value": "LaserJet 1020"},
            {"label": gettext("Under warranty"), "type": "checkbox", "value": True},
        ],
    )


def _message():
    return SampleMessage(
        gettext(
            "Since yesterday every page comes out blank.\n"
            "I have already changed the cartridge & restarted the printer."
        ),
        attachments=["test-page.pdf"],
        author_email="anna.petrova@example.com",
    )


def _ticket_context(ticket, message, page):
    return {
        "ticket": ticket,
        "message": message,
        "helpdesk": page,
        "custom_fields": [f for f in ticket.custom_fields if f.get("value") not in (None, "", [])],
        "ticket_link": example_link(page),
    }


def _account_context(page, **extra):
    return {
        "name": gettext("Anna Petrova"),
        "helpdesk": page,
        "account_link": example_page_link(page, "account/"),
        **extra,
    }


def _entry(kind, **fields):
    return LedgerEntry(
        kind=kind,
        ticket_code="SUP-000123",
        reason=gettext("The problem was on our side."),
        **fields,
    )


def sample(event):
    """A made-up context for ``event`` (an Event or its name), in the active language."""
    name = getattr(event, "name", event)
    page = helpdesk()
    ticket = _ticket()
    message = _message()
    if name in ("ticket_opened_customer", "ticket_opened_staff", "staff_replied"):
        if name == "staff_replied":
            message = SampleMessage(
                gettext("Please open the printer's settings and turn off “Toner save”.")
            )
        context = _ticket_context(ticket, message, page)
        if name == "ticket_opened_customer":
            # The sample shows every placeholder: a customer writing from their account.
            context["show_details"] = True
        return context
    if name in ("ticket_resolved", "ticket_closed", "ticket_assigned"):
        context = _ticket_context(ticket, None, page)
        if name == "ticket_resolved":
            context["rating_links"] = example_rating_links(page)
        return context
    if name == "rating_unhappy":
        message = SampleMessage(
            gettext("Please open the printer's settings and turn off “Toner save”.")
        )
        context = _ticket_context(ticket, message, page)
        context.update(
            rating=SimpleNamespace(score=2, comment=gettext("This did not help at all.")),
            reopened=False,
            by_customer=False,
        )
        return context
    if name == "customer_replied":
        replies = [
            message,
            SampleMessage(gettext("It works again, thank you!"), minutes_ago=-3),
        ]
        context = _ticket_context(ticket, replies[-1], page)
        context.update(replies=replies, more=0, window_minutes=5)
        return context
    if name == "tickets_merged":
        return {
            "target": ticket,
            "tickets": [_ticket(124, gettext("Printer still broken")), _ticket(125)],
            "helpdesk": page,
            "customer_name": ticket.customer_name,
            "target_link": example_link(page),
        }
    if name == "access_links":
        return {
            "entries": [
                {"ticket": ticket, "link": example_link(page)},
                {
                    "ticket": _ticket(131, gettext("Invoice for March")),
                    "link": example_link(page, EXAMPLE_TOKEN + "-2"),
                },
            ],
            "helpdesk": page,
        }
    if name == "billing_incidents_low":
        entry = _entry(LedgerEntry.Kind.USE, incidents=-1, incidents_after=1)
        return _account_context(page, left=1, entry=entry)
    if name in ("billing_refund", "billing_incident_returned"):
        kind = LedgerEntry.Kind.REFUND if name == "billing_refund" else LedgerEntry.Kind.RETURN
        entry = _entry(
            kind,
            amount=Decimal("25.00"),
            balance_after=Decimal("140.00"),
            incidents=1,
            incidents_after=3,
        )
        return _account_context(page, entry=entry)
    if name == "billing_grant_expiring":
        grant = IncidentGrant(
            pack=IncidentPack(name=gettext("Ten incidents")),
            quantity=10,
            remaining=4,
            expires_at=timezone.now() + timedelta(days=7),
        )
        return _account_context(page, grant=grant)
    if name == "signup_verify":
        signup = SimpleNamespace(name=gettext("Anna Petrova"), email="anna.petrova@example.com")
        return {
            "signup": signup,
            "link": example_page_link(page, "account/verify/example-link-not-valid/"),
            "helpdesk": page,
        }
    if name == "signup_existing":
        return {
            "name": gettext("Anna Petrova"),
            "helpdesk": page,
            "login_link": example_page_link(page, "accounts/login/"),
        }
    if name == "password_reset":
        site = page.get_site() if page is not None else None
        return {
            "user": SimpleNamespace(get_username=lambda: "anna"),
            "site_name": (site.site_name or site.hostname) if site else "example.com",
            "site_root": site.root_url if site else "https://example.com",
            "uid": "MQ",
            "token": "example-link-not-valid",
            "domain": "example.com",
            "protocol": "https",
        }
    if name == "mail_unknown_sender":
        department = DepartmentPage(title=gettext("Technical support"))
        return {
            "department": department,
            "form_url": example_page_link(page, "technical-support/"),
            "login_required": False,
            "paid": False,
            "original_subject": gettext("The printer prints blank pages"),
        }
    raise KeyError(name)


def for_ticket(event, ticket):
    """A context for ``event`` built from ``ticket`` (with a link that does not work)."""
    name = getattr(event, "name", event)
    page = ticket.helpdesk
    messages = ticket.messages.filter(is_internal=False).prefetch_related("attachments")
    if name in ("ticket_opened_customer", "ticket_opened_staff"):
        message = messages.order_by("pk").first()
    elif name == "staff_replied":
        message = messages.filter(is_staff_reply=True).order_by("-pk").first()
    elif name == "customer_replied":
        message = messages.filter(is_staff_reply=False).order_by("-pk").first()
    else:
        message = None
    if name in ("staff_replied", "customer_replied") and message is None:
        message = sample(name)["message"]
    if name == "customer_replied":
        context = _ticket_context(ticket, message, page)
        context.update(replies=[message], more=0, window_minutes=0)
        return context
    if name == "tickets_merged":
        merged = list(Ticket.objects.filter(merged_into=ticket).order_by("pk")[:10])
        return {
            "target": ticket,
            "tickets": merged or [ticket],
            "helpdesk": page,
            "customer_name": ticket.customer_name,
            "target_link": example_link(page),
        }
    if name == "access_links":
        return {"entries": [{"ticket": ticket, "link": example_link(page)}], "helpdesk": page}
    context = _ticket_context(ticket, message, page)
    if name == "ticket_resolved":
        context["rating_links"] = example_rating_links(page)
    if name == "ticket_opened_customer":
        from ..notifications import confirmation_echoes_details

        # What this ticket's customer was (or would be) sent.
        context["show_details"] = confirmation_echoes_details(ticket, message)
    return context
