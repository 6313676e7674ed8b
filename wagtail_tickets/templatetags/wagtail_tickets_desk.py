"""Template helpers of the desk's screens."""

from django import template

from .. import durations, html_dates

register = template.Library()


@register.filter
def html_datetime(value):
    """For ``<time datetime="…">``: whole seconds and an offset (html_dates)."""
    return html_dates.html_datetime(value)


@register.simple_tag
def deadline(value, now=None):
    """ "overdue by 1 week" / "due in 2 hours", in the right case and plural."""
    return durations.deadline(value, now) if value else ""


@register.simple_tag
def relative_time(value, now=None):
    """ "3 days ago" / "in 2 hours"."""
    return durations.relative(value, now) if value else ""
