"""Builders for test data, in one place."""

import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.models import Page, Site

from wagtail_tickets import workflow
from wagtail_tickets.attachments import ValidatedFile
from wagtail_tickets.models import (
    DepartmentPage,
    HelpdeskPage,
    HelpdeskSettings,
    StaffMember,
    TicketFormField,
)

ALL_FIELD_TYPES = [
    {"label": "Product", "field_type": "dropdown", "choices": "Laptop\nPhone\nTablet"},
    {"label": "Serial number", "field_type": "singleline"},
    {"label": "Steps to reproduce", "field_type": "multiline", "required": False},
    {"label": "Contact e-mail", "field_type": "email", "required": False},
    {"label": "Order number", "field_type": "number", "required": False},
    {"label": "Page address", "field_type": "url", "required": False},
    {"label": "Under warranty", "field_type": "checkbox", "required": False},
    {
        "label": "Accessories",
        "field_type": "checkboxes",
        "choices": "Charger\nCase\nCable",
        "required": False,
    },
    {
        "label": "Operating systems",
        "field_type": "multiselect",
        "choices": "Linux\nWindows\nmacOS",
        "required": False,
    },
    {"label": "Severity", "field_type": "radio", "choices": "Low\nHigh"},
    {"label": "Purchase date", "field_type": "date", "required": False},
    {"label": "Failure time", "field_type": "datetime", "required": False},
    {
        "label": "Before you write",
        "field_type": "info",
        "info_text": "<p>Check the <b>FAQ</b>.</p>",
    },
]


def root_page():
    return Page.get_first_root_node()


def make_helpdesk(title="Support", slug="support"):
    site = Site.objects.get(is_default_site=True)
    home = site.root_page
    page = HelpdeskPage(title=title, slug=slug, intro="<p>We are here to help.</p>")
    home.add_child(instance=page)
    page.save_revision().publish()
    return HelpdeskPage.objects.get(pk=page.pk)


def make_department(helpdesk, *, title, prefix, fields=(), live=True, **extra):
    page = DepartmentPage(
        title=title,
        slug=title.lower().replace(" ", "-"),
        code_prefix=prefix,
        intro=f"<p>{title} intro.</p>",
        **extra,
    )
    for order, spec in enumerate(fields):
        page.form_fields.add(TicketFormField(sort_order=order, **{"required": True, **spec}))
    helpdesk.add_child(instance=page)
    if live:
        page.save_revision().publish()
    else:
        page.unpublish()
    return DepartmentPage.objects.get(pk=page.pk)


def make_user(username, *, email=None, password="pass-123-word", **extra):
    User = get_user_model()
    user = User.objects.create_user(
        username, email=email or f"{username}@example.com", password=password, **extra
    )
    return user


def make_agent(username, *, departments=(), **extra):
    from django.contrib.auth.models import Permission

    user = make_user(username, is_staff=True, **extra)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    profile = StaffMember.objects.create(user=user)
    profile.departments.set(departments)
    return user


def site_settings(**values):
    site = Site.objects.get(is_default_site=True)
    obj = HelpdeskSettings.for_site(site)
    for key, value in values.items():
        setattr(obj, key, value)
    obj.save()
    return obj


def upload(name="notes.txt", content=b"hello log\n", content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def validated(name="notes.txt", content=b"hello log\n", content_type="text/plain"):
    return ValidatedFile(upload(name, content, content_type), name, content_type)


def open_ticket(
    department,
    *,
    customer=None,
    name="Alice",
    email="alice@example.com",
    subject="Printer is on fire",
    body="It started smoking.",
    **extra,
):
    if customer is not None:
        name = customer.get_full_name() or customer.get_username()
        email = customer.email
    ticket, _token = workflow.open_ticket(
        department=department,
        subject=subject,
        body=body,
        customer=customer,
        customer_name=name,
        customer_email=email,
        **extra,
    )
    return ticket


def open_ticket_with_token(department, **kwargs):
    kwargs.setdefault("customer_name", "Ann")
    kwargs.setdefault("customer_email", "ann@example.com")
    kwargs.setdefault("subject", "Lost password")
    kwargs.setdefault("body", "I cannot log in.")
    return workflow.open_ticket(department=department, **kwargs)


def add_replies(ticket, count, *, staff=None, with_attachments=False):
    """Add ``count`` public messages, alternating customer and ``staff``; return them."""
    messages = []
    for n in range(count):
        by_staff = staff is not None and n % 2 == 1
        files = [validated(f"log-{n}.txt", f"line {n}\n".encode())] if with_attachments else []
        if by_staff:
            message = workflow.post_reply(
                ticket, body=f"Staff answer {n}", author=staff, by_staff=True, attachments=files
            )
        else:
            message = workflow.post_reply(
                ticket,
                body=f"Customer reply {n}",
                author=ticket.customer,
                author_name=ticket.customer_name,
                author_email=ticket.customer_email,
                attachments=files,
            )
        messages.append(message)
    return messages


# --- desk (inbox) helpers --------------------------------------------------------------


def grant(user, *codenames):
    """Give ``user`` wagtail_tickets permissions by codename; returns a fresh user."""
    from django.contrib.auth.models import Permission

    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_tickets", codename__in=codenames
        )
    )
    return get_user_model().objects.get(pk=user.pk)


def make_admin_user(username, **extra):
    """A user who may open the Wagtail admin but has no desk profile."""
    from django.contrib.auth.models import Permission

    user = make_user(username, is_staff=True, **extra)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


def index_tickets(*tickets):
    """Rebuild the tickets' search rows (the workflow keeps them; tests that change
    tickets behind its back call this)."""
    from wagtail_tickets.models import search

    search.reindex([t.pk for t in tickets])


def make_manager(username, *, codenames=(), departments=None, group_name=None, **extra):
    """An admin user whose group holds the given wagtail_tickets permissions.

    ``codenames`` are permission codenames of the wagtail_tickets app, e.g.
    ``"change_status"``; with ``departments`` given the user also gets a desk profile.
    """
    from django.contrib.auth.models import Group, Permission

    user = make_user(username, is_staff=True, **extra)
    group, _created = Group.objects.get_or_create(name=group_name or f"{username} group")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        group.permissions.add(
            Permission.objects.get(content_type__app_label="wagtail_tickets", codename=codename)
        )
    user.groups.add(group)
    if departments is not None:
        StaffMember.objects.create(user=user).departments.set(departments)
    return user


# --- knowledge base ----------------------------------------------------------------------


def make_kb(parent, title="Knowledge base", *, slug=None, intro="", live=True, **extra):
    """A published knowledge base (or category, when ``parent`` is a knowledge base)."""
    from django.utils.text import slugify

    from wagtail_tickets.models import KnowledgeBaseIndexPage

    page = KnowledgeBaseIndexPage(
        title=title, slug=slug or slugify(title), intro=intro, live=live, **extra
    )
    parent.add_child(instance=page)
    revision = page.save_revision()
    if live:
        revision.publish()
    return KnowledgeBaseIndexPage.objects.get(pk=page.pk)


def make_article(
    index,
    title,
    summary="",
    body_text="",
    department=None,
    live=True,
    tags=(),
    *,
    slug=None,
    body=None,
    **extra,
):
    """An article under ``index``; ``body_text`` becomes one paragraph of text (escaped),
    ``body`` (a list of (block type, value) pairs) replaces it."""
    from django.utils.html import escape
    from django.utils.text import slugify
    from wagtail.rich_text import RichText

    from wagtail_tickets.models import ArticlePage

    if body is None:
        body = [("text", RichText(f"<p>{escape(body_text)}</p>"))] if body_text else []
    page = ArticlePage(
        title=title,
        slug=slug or slugify(title),
        summary=summary,
        body=body,
        department=department,
        live=live,
        **extra,
    )
    if tags:
        page.tags.add(*tags)
    index.add_child(instance=page)
    revision = page.save_revision()
    if live:
        revision.publish()
    return ArticlePage.objects.get(pk=page.pk)


# --- tickets becoming articles ---------------------------------------------------------


def staff_reply(ticket, agent, body, *, internal=False, files=()):
    """``agent`` answers (an internal note when ``internal``), attaching plain-text files
    given as (name, content) pairs."""
    return workflow.post_reply(
        ticket,
        body=body,
        author=agent,
        by_staff=True,
        is_internal=internal,
        attachments=[validated(name, content, "text/plain") for name, content in files],
    )


def resolve(ticket, user=None):
    """Move ``ticket`` to the first resolved status, as an agent would.

    Setting a status needs "Can change ticket fields" (workflow.rules); a ``user``
    without it is given it first, as the agents who resolve tickets have it.
    """
    from wagtail_tickets.models import Status

    if user is not None and not user.has_perm("wagtail_tickets.change_ticket_fields"):
        user = grant(user, "change_ticket_fields")
    workflow.change_status(ticket, Status.first_of_kind(Status.Kind.RESOLVED), user=user)


def grant_add_page(user, page, group_name="KB editors"):
    """Let ``user`` add pages below ``page`` through a group, as Wagtail's group editor does."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    group, _created = Group.objects.get_or_create(name=group_name)
    GroupPagePermission.objects.get_or_create(
        group=group, page=page, permission=Permission.objects.get(codename="add_page")
    )
    user.groups.add(group)
    return user
