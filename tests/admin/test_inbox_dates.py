"""The inbox's relative dates ("3 days ago", "in 2 hours"), built without a template."""

from datetime import UTC, datetime, timedelta

from django.utils import translation

from wagtail_tickets.admin.inbox_table import HumanDates

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_past_and_future_in_the_largest_whole_unit():
    dates = HumanDates(NOW)
    with translation.override("en"):
        assert dates.relative(NOW - timedelta(days=3, hours=5)) == "3 days ago"
        assert dates.relative(NOW + timedelta(hours=2, minutes=10)) == "In 2 hours"
        assert dates.relative(NOW - timedelta(minutes=1)) == "1 minute ago"
        assert dates.relative(NOW - timedelta(seconds=20)) == "Just now"
        assert dates.relative(NOW - timedelta(days=800)) == "2 years ago"


def test_russian_plural_forms():
    with translation.override("ru"):
        dates = HumanDates(NOW)
        texts = [dates.relative(NOW - timedelta(days=n)) for n in (1, 3, 5)]
    assert texts == ["1 день назад", "3 дня назад", "5 дней назад"]


def test_markup_carries_the_exact_time():
    html = HumanDates(NOW)(NOW - timedelta(days=1))
    assert 'datetime="2026-11-25T12:00:00+00:00"' in html
    assert "2026-11-25 12:00" in html
