"""How long ago, how long until, how long overdue: whole phrases, one unit, each plural.

Russian (and many languages) inflect the noun by the phrase around it: "1 неделя" alone,
but "1 неделю назад", "через 1 неделю", "просрочена на 1 неделю". A translated
"%(count)d week" pasted into "overdue by %(period)s" cannot be right in all of them, so
each phrase is a catalogue entry of its own, with its plural forms (``ngettext``).

The largest whole unit is used ("1 week", not "1 week, 2 days"): the desk's lists need
a glance, and the exact moment is always beside it.
"""

from django.utils import timezone
from django.utils.translation import gettext, ngettext

UNITS = (
    ("year", 365 * 24 * 60),
    ("month", 30 * 24 * 60),
    ("week", 7 * 24 * 60),
    ("day", 24 * 60),
    ("hour", 60),
    ("minute", 1),
)

# Written out, not built: makemessages only finds literal strings.
PHRASES = {
    "ago": {
        "year": lambda n: ngettext("%(count)d year ago", "%(count)d years ago", n),
        "month": lambda n: ngettext("%(count)d month ago", "%(count)d months ago", n),
        "week": lambda n: ngettext("%(count)d week ago", "%(count)d weeks ago", n),
        "day": lambda n: ngettext("%(count)d day ago", "%(count)d days ago", n),
        "hour": lambda n: ngettext("%(count)d hour ago", "%(count)d hours ago", n),
        "minute": lambda n: ngettext("%(count)d minute ago", "%(count)d minutes ago", n),
    },
    "in": {
        "year": lambda n: ngettext("in %(count)d year", "in %(count)d years", n),
        "month": lambda n: ngettext("in %(count)d month", "in %(count)d months", n),
        "week": lambda n: ngettext("in %(count)d week", "in %(count)d weeks", n),
        "day": lambda n: ngettext("in %(count)d day", "in %(count)d days", n),
        "hour": lambda n: ngettext("in %(count)d hour", "in %(count)d hours", n),
        "minute": lambda n: ngettext("in %(count)d minute", "in %(count)d minutes", n),
    },
    "overdue": {
        "year": lambda n: ngettext("overdue by %(count)d year", "overdue by %(count)d years", n),
        "month": lambda n: ngettext("overdue by %(count)d month", "overdue by %(count)d months", n),
        "week": lambda n: ngettext("overdue by %(count)d week", "overdue by %(count)d weeks", n),
        "day": lambda n: ngettext("overdue by %(count)d day", "overdue by %(count)d days", n),
        "hour": lambda n: ngettext("overdue by %(count)d hour", "overdue by %(count)d hours", n),
        "minute": lambda n: ngettext(
            "overdue by %(count)d minute", "overdue by %(count)d minutes", n
        ),
    },
    "due": {
        "year": lambda n: ngettext("due in %(count)d year", "due in %(count)d years", n),
        "month": lambda n: ngettext("due in %(count)d month", "due in %(count)d months", n),
        "week": lambda n: ngettext("due in %(count)d week", "due in %(count)d weeks", n),
        "day": lambda n: ngettext("due in %(count)d day", "due in %(count)d days", n),
        "hour": lambda n: ngettext("due in %(count)d hour", "due in %(count)d hours", n),
        "minute": lambda n: ngettext("due in %(count)d minute", "due in %(count)d minutes", n),
    },
}

#: What each kind says when less than a minute lies between.
MOMENTS = {
    "ago": lambda: gettext("just now"),
    "in": lambda: gettext("in under a minute"),
    "overdue": lambda: gettext("just overdue"),
    "due": lambda: gettext("due in under a minute"),
}


def largest_unit(minutes):
    """(unit, count) of the largest unit that fits in ``minutes``; (None, 0) under one."""
    for unit, size in UNITS:
        if minutes >= size:
            return unit, minutes // size
    return None, 0


def phrase(kind, unit, count):
    """The phrase of ``kind`` ("ago", "in", "overdue", "due") for ``count`` ``unit``s."""
    if unit is None:
        return MOMENTS[kind]()
    return PHRASES[kind][unit](count) % {"count": count}


def between(value, now=None):
    """(unit, count, future) for the time between ``now`` and ``value``."""
    now = now or timezone.now()
    minutes = int(abs((now - value).total_seconds()) // 60)
    unit, count = largest_unit(minutes)
    return unit, count, value > now


def relative(value, now=None):
    """ "3 days ago" or "in 2 hours"."""
    unit, count, future = between(value, now)
    return phrase("in" if future else "ago", unit, count)


def deadline(value, now=None):
    """ "overdue by 1 week" or "due in 2 hours"."""
    unit, count, future = between(value, now)
    return phrase("due" if future else "overdue", unit, count)
