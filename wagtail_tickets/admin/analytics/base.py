"""The analytics screens: Wagtail report views over the rollups.

Each screen is a ``ReportView`` with the period, department and agent filters; its table
is what the CSV and XLSX exports hold, and its figures and charts sit above the table,
in the part Wagtail refreshes when a filter changes. Who may see them: holders of
"Can view helpdesk analytics" (``view_analytics``); anyone else gets a 403. Figures are
limited to the departments the user sees in the desk, in the screens and the exports.
"""

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail.admin.views.reports import ReportView

from ...permissions import sees_all_departments
from ...spreadsheets import SafeSpreadsheetExportMixin
from .filters import AnalyticsFilterSet, load_choices
from .format import FastTable

NAMESPACE = "helpdesk_analytics"
PERMISSION = "wagtail_tickets.view_analytics"


def can_view_analytics(user):
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


class AnalyticsView(SafeSpreadsheetExportMixin, ReportView):
    """What every screen shares: access, filters, scope, navigation, exports (CSV cells
    that start like a formula are written as text: ``spreadsheets``)."""

    screen = None
    screen_title = None
    template_name = "wagtail_tickets/admin/analytics/screen.html"
    filterset_class = AnalyticsFilterSet
    header_icon = "crosshairs"
    permission_policy = None
    paginate_by = None
    table_class = FastTable
    export_filename = "analytics"

    def dispatch(self, request, *args, **kwargs):
        if not can_view_analytics(request.user):
            return permission_denied(request, exception=None)
        return super().dispatch(request, *args, **kwargs)

    @property
    def page_title(self):
        return self.screen_title

    @cached_property
    def index_url_name(self):
        return f"{NAMESPACE}:{self.screen}"

    @cached_property
    def index_results_url_name(self):
        return f"{NAMESPACE}:{self.screen}_results"

    @cached_property
    def choices(self):
        return load_choices(self.request.user)

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "choices": self.choices}

    @cached_property
    def scope(self):
        return self.filters.scope

    @property
    def department_titles(self):
        return self.filters.department_titles

    def filter_queryset(self, queryset):
        return queryset  # the scope applies the filters

    def get_queryset(self):
        return self.get_rows()

    def get_rows(self):
        raise NotImplementedError

    def get_filename(self):
        period = self.scope.period
        return f"{self.export_filename}-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}"

    def filter_query(self):
        """The query string of the filters, to carry to the other screens."""
        params = self.request.GET.copy()
        for key in ("export", "p", "ordering", "_w_filter_fragment"):
            params.pop(key, None)
        return params.urlencode()

    def screens(self):
        query = self.filter_query()
        return [
            {
                "name": name,
                "label": label,
                "url": reverse(f"{NAMESPACE}:{name}") + (f"?{query}" if query else ""),
                "current": name == self.screen,
            }
            for name, label in SCREENS
        ]

    def period_label(self):
        period = self.scope.period
        days = period.days
        return ngettext(
            "%(start)s – %(end)s (%(days)d day)",
            "%(start)s – %(end)s (%(days)d days)",
            days,
        ) % {
            "start": _date(period.start),
            "end": _date(period.end),
            "days": days,
        }

    def scope_label(self):
        """The department and agent the figures are limited to, in words."""
        scope = self.scope
        parts = []
        if scope.department is not None:
            parts.append(self.department_titles.get(scope.department, "—"))
        elif scope.departments is not None:
            parts.append(gettext("your departments"))
        else:
            parts.append(gettext("all departments"))
        if scope.agent is not None:
            parts.append(self.filters.agent_names.get(scope.agent, "—"))
        return ", ".join(parts)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context.update(
            screens=self.screens(),
            period_label=self.period_label(),
            scope_label=self.scope_label(),
            sees_all=sees_all_departments(self.request.user),
        )
        return context


def _date(value):
    return date_format(value, "DATE_FORMAT")


SCREENS = [
    ("overview", _("Overview")),
    ("agents", _("Agents")),
    ("departments", _("Departments")),
    ("ratings", _("Ratings")),
    ("knowledge_base", _("Knowledge base")),
]


def share(value):
    """A ratio as a percentage with one decimal, for spreadsheets."""
    return None if value is None else round(value * 100, 1)


def rounded(value):
    return None if value is None else round(value, 2)
