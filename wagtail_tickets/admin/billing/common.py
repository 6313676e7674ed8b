"""What the paid-support screens share: money columns, safe spreadsheet cells, the
permission checks of the action views."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.formats import date_format
from django.views.defaults import permission_denied
from wagtail.admin.ui.tables import Column

from ...money import format_money
from .policies import can_manage_billing, can_view_billing

#: A spreadsheet program would run these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet shows as text: a leading formula character is quoted.
    Numbers stay numbers (a negative balance is no formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeSpreadsheetMixin:
    """Wagtail's CSV/XLSX export, with text cells neutralised (customers type names)."""

    def preprocess_field_value(self, field, value, export_format):
        return safe_cell(super().preprocess_field_value(field, value, export_format))


class MoneyColumn(Column):
    """An amount in the site's currency, right-aligned."""

    cell_template_name = "wagtail_tickets/admin/billing/money_cell.html"

    def get_value(self, instance):
        return format_money(super().get_value(instance))

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = Column.get_value(self, instance)
        context["negative"] = raw is not None and raw < 0
        return context


class DayColumn(Column):
    """A date as a date (Wagtail's DateColumn says "just now" of future moments)."""

    def get_value(self, instance):
        value = super().get_value(instance)
        if not value:
            return ""
        return date_format(timezone.localtime(value), "DATE_FORMAT")


class NumberColumnRight(Column):
    cell_template_name = "wagtail_tickets/admin/billing/number_cell.html"


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
