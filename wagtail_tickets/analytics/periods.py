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


def quarter_start(day):
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


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
        """(quarter starts, month starts, days) that together make the period: the
        calendar quarters that lie wholly inside it, the other whole months, and the
        days left at its edges. Rollups hold all three grains, so a year reads about 5
        quarter and month rows and up to 60 day rows per key instead of 365."""
        quarters, months, days = [], [], []
        current = self.start
        while current <= self.end:
            following = next_month(current)
            month_end = following - timedelta(days=1)
            if current.day == 1 and month_end <= self.end:
                quarter_end = next_month(next_month(following)) - timedelta(days=1)
                if current.month % 3 == 1 and quarter_end <= self.end:
                    quarters.append(current)
                    current = quarter_end + timedelta(days=1)
                    continue
                months.append(current)
            else:
                last = min(month_end, self.end)
                days.extend(current + timedelta(days=n) for n in range((last - current).days + 1))
            current = following
        return quarters, months, days

    def signed_blocks(self, now_day=None):
        """(quarter starts, month starts, days to add, days to take away): the same
        period with its edge months read whole where that is cheaper, less the days
        outside the period. Only for sums (a maximum cannot be taken away). Days after
        ``now_day`` (today) cost nothing to take away: nothing has happened on them yet
        (and if something has, taking it away is still exact)."""
        now_day = now_day or today()
        quarters, months, days = self.blocks()
        inside_by_month = {}
        for day in days:
            inside_by_month.setdefault(month_start(day), []).append(day)
        whole = set(months)
        for quarter in quarters:
            whole.update({quarter, next_month(quarter), next_month(next_month(quarter))})
        add, take = [], []
        for first, inside in inside_by_month.items():
            following = next_month(first)
            outside = [
                first + timedelta(days=n)
                for n in range((following - first).days)
                if not self.start <= first + timedelta(days=n) <= self.end
            ]
            if sum(1 for day in outside if day <= now_day) < len(inside):
                whole.add(first)
                take.extend(outside)
            else:
                add.extend(inside)
        quarters, months = [], []
        for first in sorted(whole):
            if first in whole and first.month % 3 == 1:
                second, third = next_month(first), next_month(next_month(first))
                if second in whole and third in whole:
                    quarters.append(first)
                    continue
            if any(q <= first < next_month(next_month(next_month(q))) for q in quarters):
                continue
            months.append(first)
        return quarters, months, sorted(add), sorted(take)
