"""The paid-support report: per month and department, the tickets charged, the
incidents used and returned, the money charged and refunded, and the net revenue, with
CSV/XLSX export (a Wagtail ReportView).

One grouped query over the ledger for the period (an index on its date), whatever the
number of tickets: the ledger holds an entry per paid ticket, not one per message.
"""

from datetime import date, datetime, time

import django_filters
from django import forms
from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import include, path, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView

from ...models import DepartmentPage, LedgerEntry
from ...models.billing import ZERO
from ...money import CENT
from ...spreadsheets import SafeSpreadsheetExportMixin
from ..menu import HELPDESK_MENU_HOOK
from .common import BillingAccessMixin, MoneyColumn, NumberColumnRight
from .policies import can_view_billing

NAMESPACE = "helpdesk_billing_report"
DEFAULT_MONTHS = 12
Kind = LedgerEntry.Kind


def _month_start(day):
    return day.replace(day=1)


def _months_back(day, months):
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class MonthField(forms.DateField):
    """A month typed as 2026-03 (an <input type="month">), read as its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        result = super().to_python(value)
        return _month_start(result) if result else result


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class BillingReportFilterSet(WagtailFilterSet):
    start = MonthFilter(label=_("From month"), method="noop")
    end = MonthFilter(label=_("To month"), method="noop")
    department = django_filters.ChoiceFilter(
        label=_("Department"), empty_label=_("All paid departments"), method="noop"
    )

    class Meta:
        model = LedgerEntry
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["department"].extra["choices"] = [
            (str(pk), title)
            for pk, title in DepartmentPage.objects.exclude(
                support_mode=DepartmentPage.SupportMode.FREE
            )
            .order_by("path")
            .values_list("pk", "title")
        ]

    def noop(self, queryset, name, value):
        # Applied by the view, before grouping.
        return queryset


def report_rows(entries):
    """``entries`` grouped by month and department, with the report's figures."""
    return (
        entries.order_by()
        .annotate(month=TruncMonth("created_at"))
        .values("month", "department", "department__title")
        .annotate(
            tickets=Count("pk", filter=Q(kind__in=LedgerEntry.OPENING_KINDS)),
            incidents_used=Count("pk", filter=Q(kind=Kind.USE)),
            incidents_returned=Count("pk", filter=Q(kind=Kind.RETURN)),
            charged=Coalesce(
                -Sum("amount", filter=Q(kind__in=LedgerEntry.CHARGE_KINDS)), Value(ZERO)
            ),
            refunded=Coalesce(Sum("amount", filter=Q(kind=Kind.REFUND)), Value(ZERO)),
        )
        .order_by("-month", "department__title", "department")
    )


class RowPaginator(WagtailPaginator):
    @cached_property
    def items_count_label(self):
        return ngettext("%(count)s row", "%(count)s rows", self.count) % {"count": self.count}


class BillingReportView(SafeSpreadsheetExportMixin, BillingAccessMixin, ReportView):
    page_title = _("Paid support report")
    template_name = "wagtail_tickets/admin/billing/report.html"
    header_icon = "table"
    index_url_name = f"{NAMESPACE}:index"
    index_results_url_name = f"{NAMESPACE}:results"
    filterset_class = BillingReportFilterSet
    paginator_class = RowPaginator
    permission_policy = None
    paginate_by = 50
    export_filename = "paid-support"
    list_export = [
        "month_text",
        "department_title",
        "tickets",
        "incidents_used",
        "incidents_returned",
        "charged",
        "refunded",
        "net",
    ]
    export_headings = {
        "month_text": _("Month"),
        "department_title": _("Department"),
        "tickets": _("Tickets"),
        "incidents_used": _("Incidents used"),
        "incidents_returned": _("Incidents returned"),
        "charged": _("Charged"),
        "refunded": _("Refunded"),
        "net": _("Net revenue"),
    }

    def get_filename(self):
        return f"{self.export_filename}-{timezone.localdate():%Y-%m-%d}"

    @cached_property
    def period(self):
        cleaned = {}
        if self.filters is not None and self.filters.is_valid():
            cleaned = self.filters.form.cleaned_data
        today = timezone.localdate()
        end = cleaned.get("end") or _month_start(today)
        start = cleaned.get("start") or _months_back(end, DEFAULT_MONTHS - 1)
        if start > end:
            start, end = end, start
        department = cleaned.get("department")
        return start, end, int(department) if department else None

    def get_queryset(self):
        start, end, department = self.period
        start_at = timezone.make_aware(datetime.combine(start, time.min))
        following = _months_back(end, -1)
        end_at = timezone.make_aware(datetime.combine(following, time.min))
        entries = LedgerEntry.objects.filter(
            created_at__gte=start_at, created_at__lt=end_at, department__isnull=False
        )
        if department:
            entries = entries.filter(department_id=department)
        return report_rows(entries)

    def filter_queryset(self, queryset):
        return queryset

    def decorate_paginated_queryset(self, object_list):
        rows = []
        for row in object_list:
            row = dict(row)
            month = row["month"]
            if isinstance(month, datetime):
                month = timezone.localtime(month) if timezone.is_aware(month) else month
            row["month_text"] = month.strftime("%Y-%m") if month else ""
            row["month_label"] = date_format(month, "YEAR_MONTH_FORMAT") if month else ""
            row["department_title"] = row["department__title"] or "—"
            row["charged"] = (row["charged"] or ZERO).quantize(CENT)
            row["refunded"] = (row["refunded"] or ZERO).quantize(CENT)
            row["net"] = row["charged"] - row["refunded"]
            rows.append(row)
        return rows

    def get_table(self, object_list):
        return super().get_table(self.decorate_paginated_queryset(object_list))

    def to_row_dict(self, item):
        return {field: item[field] for field in self.list_export}

    @cached_property
    def columns(self):
        return [
            Column("month_label", label=_("Month"), accessor="month_label"),
            Column("department_title", label=_("Department"), accessor="department_title"),
            NumberColumnRight("tickets", label=_("Tickets"), accessor="tickets"),
            NumberColumnRight(
                "incidents_used", label=_("Incidents used"), accessor="incidents_used"
            ),
            NumberColumnRight(
                "incidents_returned", label=_("Incidents returned"), accessor="incidents_returned"
            ),
            MoneyColumn("charged", label=_("Charged"), accessor="charged"),
            MoneyColumn("refunded", label=_("Refunded"), accessor="refunded"),
            MoneyColumn("net", label=_("Net revenue"), accessor="net"),
        ]


class BillingReportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_billing(request.user)


@hooks.register("register_admin_urls")
def register_billing_report_urls():
    urls = [
        path("", BillingReportView.as_view(), name="index"),
        path("results/", BillingReportView.as_view(results_only=True), name="results"),
    ]
    return [path("helpdesk/billing/report/", include((urls, NAMESPACE), namespace=NAMESPACE))]


@hooks.register(HELPDESK_MENU_HOOK)
def register_billing_report_menu_item():
    return BillingReportMenuItem(
        _("Paid support report"),
        reverse_lazy(f"{NAMESPACE}:index"),
        name="helpdesk_billing_report",
        icon_name="table",
        order=86,
    )
