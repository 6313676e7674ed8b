"""Days in the site's time zone, and periods of whole days.

The site's time zone is Django's ``TIME_ZONE``, not the zone Wagtail's admin activates
for the user reading a report: a day's figures must not depend on who looks at them.
After changing ``TIME_ZONE``, run ``manage.py helpdesk_rebuild_analytics`` so that the
rollups move to the new days.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def site_zone():
    return ZoneInfo(settings.TIME_ZONE or "UTC")


def local_day(moment):
    """The date of an aware datetime in the site's time zone."""
    return moment.astimezone(site_zone()).date()


def today():
    return local_day(timezone.now())


def day_start(day):
    """The first instant of ``day`` in the site's time zone, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=site_zone())


def month_start(day):
    return day.replace(day=1)


def next_month(day):
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def minutes_between(start, end):
    """Whole minutes from ``start`` to ``end`` (elapsed time, so a daylight-saving
    change does not add or remove an hour); never negative."""
    return max(0, int((end - start).total_seconds() // 60))


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end``, both included, in the site's time zone."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days, *, until=None):
        end = until or today()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    def each_day(self):
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def starts_at(self):
        return day_start(self.start)

    def ends_before(self):
        return day_start(self.end + timedelta(days=1))

    def blocks(self):
        """(month starts, day ranges): the months that lie wholly inside the period,
        and (first, last) ranges of the days outside them. Rollups hold both grains, so
        a year is read as about 12 month rows and up to 60 day rows per key."""
        months, ranges = [], []
        current = self.start
        while current <= self.end:
            following = next_month(current)
            month_end = following - timedelta(days=1)
            if current.day == 1 and month_end <= self.end:
                months.append(current)
            else:
                ranges.append((current, min(month_end, self.end)))
            current = following
        return months, ranges
