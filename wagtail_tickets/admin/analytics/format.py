"""How the analytics screens show their figures, and how their spreadsheets keep
formulas out."""

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from wagtail.coreutils import multigetattr

from ..inbox_table import FastColumn, InboxTable, esc

#: Wagtail's table with its body built in one Python pass (a template per cell would
#: cost more than all the figures' SQL).
FastTable = InboxTable

NONE = "—"


def duration(minutes):
    """Whole minutes as "3 d 4 h", "2 h 5 min" or "12 min"."""
    if minutes is None:
        return NONE
    minutes = int(minutes)
    if minutes < 60:
        return gettext("%(minutes)d min") % {"minutes": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    days, hours = divmod(hours, 24)
    return gettext("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def percent(ratio):
    if ratio is None:
        return NONE
    return f"{number_format(ratio * 100, 0)} %"


def score(value):
    if value is None:
        return NONE
    return number_format(value, 2)


class FormattedColumn(FastColumn):
    """A column built as a string (see ``inbox_table``) whose value goes through
    ``formatter``; None shows as a dash."""

    def __init__(self, name, formatter=None, **kwargs):
        self.formatter = formatter
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        value = multigetattr(instance, self.accessor)
        if self.formatter is not None:
            return self.formatter(value)
        return NONE if value is None else value


def short_date(value):
    return NONE if value is None else date_format(value, "SHORT_DATE_FORMAT")


def short_datetime(value):
    if value is None:
        return NONE
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


class ScoreColumn(FastColumn):
    def cell(self, instance, parent_context):
        kind = "label" if instance.is_unhappy else "primary"
        return f'<span class="w-status w-status--{kind}">{int(instance.score)}</span>'


class CommentColumn(FastColumn):
    def cell(self, instance, parent_context):
        return esc(instance.comment).replace("\n", "<br>") if instance.comment else NONE


class TicketColumn(FastColumn):
    def cell(self, instance, parent_context):
        ticket = instance.ticket
        return (
            f'<a href="{esc(instance.ticket_url)}">{esc(ticket.code)}</a>'
            f'<small class="w-block w-text-text-meta">{esc(ticket.subject)}</small>'
        )
