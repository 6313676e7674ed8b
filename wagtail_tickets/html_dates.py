"""Dates in the machine-readable form HTML wants, for every ``<time datetime="…">``."""

import datetime

from django.utils import timezone


def html_datetime(value):
    """``value`` as a valid HTML date or global date-and-time string.

    Django's ``date:"c"`` and ``isoformat()`` keep microseconds, six digits where HTML
    allows three at most. This gives whole seconds with the offset of the displayed
    time zone ("2026-05-11T09:44:03+03:00"), or "2026-05-11" for a date; anything
    else gives "".
    """
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return ""
