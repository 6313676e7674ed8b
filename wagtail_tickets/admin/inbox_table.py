"""The inbox's table: Wagtail's ``Table`` with its body built in one Python pass.

A page of the inbox has 20 rows of 12 cells. Rendering a template per cell, or even
calling ``format_html`` per value, cost more than all of the page's SQL, so the cells
are plain strings assembled here. Every value that comes from the database goes
through ``esc`` (the same escaping Django's templates apply); only the fixed markup
around it is written literally.
"""

from html import escape as _html_escape

from django.forms.utils import flatatt
from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, Table

from .. import colours, durations, html_dates
from ..models import Status

_PK_PLACEHOLDER = 2147483646


def esc(value):
    """Django's ``conditional_escape`` without its lazy-string check.

    Same output (Django's ``escape`` is ``html.escape``); the check wrapping it cost more
    than the escaping for the thousand values of a page.
    """
    if hasattr(value, "__html__"):
        return value.__html__()
    return _html_escape(str(value))


def url_maker(name):
    """A function pk -> URL of ``name``, reversing once (None if ``name`` is missing).

    A page of the inbox links every ticket twice; a reverse() each would cost more than
    the page's query.
    """
    try:
        pattern = reverse(name, args=[_PK_PLACEHOLDER])
    except NoReverseMatch:
        return lambda pk: None
    before, after = pattern.split(str(_PK_PLACEHOLDER), 1)
    return lambda pk: f"{before}{int(pk)}{after}"


def readable_on(colour):
    """Black or white text, whichever reads better on the ``#rrggbb`` background."""
    return colours.text_colour(colour)


# --------------------------------------------------------------------------------------
# Relative dates
# --------------------------------------------------------------------------------------


class HumanDates:
    """Wagtail's ``human_readable_date`` markup, built in Python for a page of rows.

    The relative texts ("3 days ago", "in 2 hours") repeat a lot on a page, so each is
    translated once per page.
    """

    def __init__(self, now):
        self.now = now
        self.texts = {}

    def relative(self, value):
        unit, count, future = durations.between(value, self.now)
        key = (unit, count, future)
        if key not in self.texts:
            text = durations.phrase("in" if future else "ago", unit, count)
            self.texts[key] = esc(capfirst(text))
        return self.texts[key]

    def __call__(self, value):
        if not value:
            return ""
        local = timezone.localtime(value)
        machine = html_dates.html_datetime(local)
        return mark_safe(
            '<button type="button" class="w-human-readable-date" data-controller="w-tooltip" '
            f'data-w-tooltip-content-value="{local:%Y-%m-%d %H:%M}" '
            'data-w-tooltip-placement-value="top">'
            f'<time class="w-human-readable-date__date" datetime="{machine}">'
            f"{self.relative(value)}</time></button>"
        )


# --------------------------------------------------------------------------------------
# Columns: ``cell`` returns HTML (a str, escaped) for one ticket
# --------------------------------------------------------------------------------------


class FastColumn(Column):
    """A column whose cells are strings built in Python rather than a template each."""

    def render_cell_html(self, instance, parent_context):
        return mark_safe(self.cell_html(instance, parent_context))

    def cell_html(self, instance, parent_context):
        return f"<td{self.class_attr}>{self.cell(instance, parent_context)}</td>"

    @property
    def class_attr(self):
        return f' class="{esc(self.classname)}"' if self.classname else ""

    def cell(self, instance, parent_context):
        value = self.get_value(instance)
        return "" if value is None else esc(value)


class StarColumn(FastColumn):
    """A one-button form per row: works without JavaScript.

    Its heading is read out but not shown: the stars explain themselves, and the
    narrow column leaves the room to the others.
    """

    header_template_name = "wagtail_tickets/admin/inbox_star_header.html"

    def cell(self, instance, parent_context):
        if not hasattr(self, "_form"):
            request = parent_context.get("request")
            token = get_token(request) if request else ""
            next_url = request.get_full_path() if request else ""
            star_url = url_maker("helpdesk_inbox:star")
            hidden = (
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(token)}">'
                f'<input type="hidden" name="next" value="{esc(next_url)}">'
            )
            self._form = (star_url, hidden)
            labels = {
                True: (gettext("Remove the star"), gettext("Starred"), "true", "★"),
                False: (gettext("Star this ticket"), gettext("Not starred"), "false", "☆"),
            }
            self._labels = {
                key: (esc(title), esc(state), pressed, sign)
                for key, (title, state, pressed, sign) in labels.items()
            }
        star_url, hidden = self._form
        title, state, pressed, sign = self._labels[bool(getattr(instance, "wt_starred", False))]
        return (
            f'<form class="wt-star-form" action="{esc(star_url(instance.pk))}" method="post">'
            f'{hidden}<button type="submit" class="wt-star" aria-pressed="{pressed}" '
            f'title="{title}">{sign}<span class="w-sr-only">{state}</span></button></form>'
        )


class BadgeColumn(FastColumn):
    """A status or priority as a badge in its manager-chosen colour."""

    def cell(self, instance, parent_context):
        obj = self.get_value(instance)
        if obj is None:
            return ""
        # A page shows a handful of statuses and priorities: each badge is built once.
        badges = self.__dict__.setdefault("_badges", {})
        key = (obj.pk, obj.colour, obj.name)
        if key not in badges:
            colour = obj.colour or "#6b7280"
            badges[key] = (
                f'<span class="wt-badge" style="background-color: {esc(colour)}; '
                f'color: {readable_on(colour)};">{esc(obj)}</span>'
            )
        return badges[key]


class CustomerColumn(FastColumn):
    def cell(self, instance, parent_context):
        email = esc(instance.customer_email)
        return (
            f"{esc(instance.customer_name)}"
            f'<span class="wt-customer-email" title="{email}">{email}</span>'
        )


class WhenColumn(FastColumn):
    def __init__(self, *args, dates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.dates = dates or HumanDates(timezone.now())
        self.now = self.dates.now

    def cell(self, instance, parent_context):
        return self.dates(self.get_value(instance))


class DueColumn(WhenColumn):
    def cell(self, instance, parent_context):
        value = self.get_value(instance)
        overdue = bool(value and value < self.now and instance.status.kind in Status.ACTIVE_KINDS)
        if not overdue:
            return self.dates(value)
        if not hasattr(self, "_overdue"):
            self._overdue = esc(gettext("overdue"))
        return (
            f'<span class="wt-overdue">{self.dates(value)} '
            f'<span class="wt-overdue-label">({self._overdue})</span></span>'
        )


class CodeColumn(FastColumn):
    """The code, linking to the ticket screen; its id labels the row's checkbox."""

    class_attr = ' class="title"'

    def cell(self, instance, parent_context):
        if not hasattr(self, "_url"):
            self._url = url_maker("helpdesk_tickets:detail")
        pk = int(instance.pk)
        title = f'<span id="ticket_{pk}_title">{esc(instance.code)}</span>'
        url = self._url(pk)
        if url:
            title = f'<a href="{esc(url)}">{title}</a>'
        return f'<div class="title-wrapper">{title}</div>'


def is_unread(ticket, seen_at=None):
    """Whether the customer wrote after the agent last opened the ticket.

    ``wt_seen_at`` is the agent's last view, a column of the inbox's page query.
    """
    latest = getattr(ticket, "last_customer_message_at", None)
    if latest is None:
        return False
    seen = getattr(ticket, "wt_seen_at", None) if seen_at is None else seen_at
    return seen is None or latest > seen


class SubjectColumn(FastColumn):
    """The subject, linking to the ticket; unread tickets get a dot and a label."""

    def cell(self, instance, parent_context):
        if not hasattr(self, "_url"):
            self._url = url_maker("helpdesk_tickets:detail")
            self._unread = esc(gettext("New customer activity"))
        subject = esc(instance.subject)
        url = self._url(int(instance.pk))
        if url:
            subject = f'<a href="{esc(url)}" data-wt-row-link>{subject}</a>'
        if is_unread(instance):
            return (
                '<span class="wt-unread-dot" aria-hidden="true"></span>'
                f'<span class="w-sr-only">{self._unread}: </span>{subject}'
            )
        return subject


class CheckboxColumn(BulkActionsCheckboxColumn):
    """Wagtail's bulk action checkbox, drawn without a template per row."""

    def render_cell_html(self, instance, parent_context):
        return mark_safe(self.cell_html(instance, parent_context))

    def cell_html(self, instance, parent_context):
        if not hasattr(self, "_label"):
            self._label = esc(gettext("Select"))
        return (
            '<td class="bulk-action-checkbox-cell"><input type="checkbox" '
            f'data-object-id="{int(instance.pk)}" data-bulk-action-checkbox '
            f'class="bulk-action-checkbox" aria-label="{self._label}" '
            f'aria-describedby="{esc(self.get_aria_describedby(instance))}"></td>'
        )


class InboxTable(Table):
    """Wagtail's table, with the body built in one Python pass."""

    template_name = "wagtail_tickets/admin/inbox_table.html"

    def get_row_attrs(self, instance):
        attrs = {"data-wt-row": ""}
        if is_unread(instance):
            attrs["class"] = "wt-unread"
        return attrs

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        cell_context = {"request": context["request"], "table": self}
        rows = []
        columns = list(self.columns.values())
        for row in self.rows:
            cell_context["row"] = row
            cells = "".join(column.cell_html(row.instance, cell_context) for column in columns)
            rows.append(f"<tr{flatatt(row.attrs)}>{cells}</tr>")
        context["body_html"] = mark_safe("".join(rows))
        return context
