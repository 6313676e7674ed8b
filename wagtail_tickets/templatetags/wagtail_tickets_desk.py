"""Template helpers of the desk's screens."""

from django import template
from django.utils import timezone

from .. import durations

register = template.Library()


@register.filter
def html_datetime(value):
    """A date and time for HTML's ``datetime`` attribute: whole seconds, with the offset.

    Django's ``date:"c"`` keeps microseconds, which HTML does not allow there.
    """
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()


@register.simple_tag
def deadline(value, now=None):
    """ "overdue by 1 week" / "due in 2 hours", in the right case and plural."""
    return durations.deadline(value, now) if value else ""


@register.simple_tag
def relative_time(value, now=None):
    """ "3 days ago" / "in 2 hours"."""
    return durations.relative(value, now) if value else ""
