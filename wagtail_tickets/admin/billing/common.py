"""What the paid-support screens share: money columns, safe spreadsheet cells, the
permission checks of the action views."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.views.defaults import permission_denied
from wagtail.admin.ui.tables import Column

from ...money import format_money
from .policies import can_manage_billing, can_view_billing


class DirectCellMixin:
    """Cells built as escaped strings rather than a template each: a listing page of
    fifty accounts renders three hundred cells."""

    cell_class = ""

    def cell_text(self, instance):
        return self.get_value(instance)

    def cell_classes(self, instance):
        return " ".join(c for c in (self.cell_class, self.classname) if c)

    def render_cell_html(self, instance, parent_context):
        text = self.cell_text(instance)
        classes = self.cell_classes(instance)
        return format_html(
            "<td{}>{}</td>",
            format_html(' class="{}"', classes) if classes else "",
            "" if text is None else text,
        )


class MoneyColumn(DirectCellMixin, Column):
    """An amount in the site's currency, right-aligned; negative amounts in red."""

    cell_class = "wt-num"

    def cell_text(self, instance):
        return format_money(Column.get_value(self, instance))

    def cell_classes(self, instance):
        value = Column.get_value(self, instance)
        negative = " wt-negative" if value is not None and value < 0 else ""
        return super().cell_classes(instance) + negative

    def get_value(self, instance):
        return format_money(super().get_value(instance))


class DayColumn(DirectCellMixin, Column):
    """A date as a date (Wagtail's DateColumn says "just now" of future moments)."""

    def get_value(self, instance):
        value = super().get_value(instance)
        if not value:
            return ""
        return date_format(timezone.localtime(value), "DATE_FORMAT")


class AgoColumn(DirectCellMixin, Column):
    """How long ago, with the exact moment in the title."""

    def cell_text(self, instance):
        value = Column.get_value(self, instance)
        if not value:
            return ""
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            value.isoformat(),
            date_format(timezone.localtime(value), "DATETIME_FORMAT"),
            gettext("%(time)s ago") % {"time": timesince(value)},
        )


class NumberColumnRight(DirectCellMixin, Column):
    cell_class = "wt-num"


class RealForbiddenMixin:
    """Wagtail's generic views answer a refused permission by a redirect to the
    dashboard; the paid-support screens answer 403, as the rest of the desk does."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied:
            return permission_denied(request, exception=None)


class BillingAccessMixin:
    """Reading needs ``view_supportaccount`` or ``manage_billing``; changing
    ``manage_billing``. Anyone else gets a real 403."""

    needs_manage = False

    def dispatch(self, request, *args, **kwargs):
        allowed = (
            can_manage_billing(request.user)
            if self.needs_manage
            else can_view_billing(request.user)
        )
        if not allowed:
            return permission_denied(request, exception=None)
        return super().dispatch(request, *args, **kwargs)
