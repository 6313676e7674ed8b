"""How the analytics screens show their figures, and how their spreadsheets keep
formulas out."""

from django.utils.formats import number_format
from django.utils.translation import gettext
from wagtail.admin.ui.tables import Column
from wagtail.coreutils import multigetattr

NONE = "—"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormattedColumn(Column):
    """A column whose value goes through ``formatter`` (None shows as a dash)."""

    def __init__(self, name, formatter=None, **kwargs):
        self.formatter = formatter
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        value = multigetattr(instance, self.accessor)
        if self.formatter is not None:
            return self.formatter(value)
        return NONE if value is None else value


class TemplateColumn(Column):
    def __init__(self, name, template, **kwargs):
        self.cell_template_name = f"wagtail_tickets/admin/analytics/{template}"
        super().__init__(name, **kwargs)
