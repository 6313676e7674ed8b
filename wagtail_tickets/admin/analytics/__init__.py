"""The managers' analytics in the Helpdesk menu: overview, agents, departments, ratings,
knowledge base, and the overview as a PDF.

base.py         what every screen shares: access, filters, scope, navigation, exports
overview.py     the overview and its PDF
agents.py, departments.py, ratings.py, knowledge.py   the other screens
filters.py      the period, department and agent filters
format.py       durations, shares and scores as shown; spreadsheet cells made safe
"""

from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from ..menu import HELPDESK_MENU_HOOK
from .agents import AgentsView
from .base import NAMESPACE, can_view_analytics
from .departments import DepartmentsView
from .knowledge import KnowledgeBaseView
from .overview import OverviewPDFView, OverviewView
from .ratings import RatingsView

VIEWS = {
    "overview": OverviewView,
    "agents": AgentsView,
    "departments": DepartmentsView,
    "ratings": RatingsView,
    "knowledge_base": KnowledgeBaseView,
}


@hooks.register("register_admin_urls")
def register_analytics_urls():
    urls = [path("overview/pdf/", OverviewPDFView.as_view(), name="overview_pdf")]
    for name, view in VIEWS.items():
        slug = "" if name == "overview" else name.replace("_", "-") + "/"
        results = ("overview/" if name == "overview" else slug) + "results/"
        urls += [
            path(slug, view.as_view(), name=name),
            path(results, view.as_view(results_only=True), name=f"{name}_results"),
        ]
    return [path("helpdesk/analytics/", include((urls, NAMESPACE), namespace=NAMESPACE))]


class AnalyticsMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_analytics(request.user)


@hooks.register(HELPDESK_MENU_HOOK)
def register_analytics_menu_item():
    return AnalyticsMenuItem(
        _("Analytics"),
        reverse_lazy(f"{NAMESPACE}:overview"),
        name="helpdesk_analytics",
        icon_name="crosshairs",
        order=90,
    )
