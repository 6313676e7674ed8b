"""Knowledge base: deflection by the ticket form's suggestions, unhelpful articles,
articles made from tickets."""

from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ...analytics import queries
from .base import AnalyticsView, share
from .format import FormattedColumn, percent


class KnowledgeBaseView(AnalyticsView):
    screen = "knowledge_base"
    screen_title = _("Analytics: knowledge base")
    results_template_name = "wagtail_tickets/admin/analytics/knowledge_base_results.html"
    export_filename = "analytics-knowledge-base"
    verbose_name_plural = _("departments")
    list_export = ["title", "shown", "opened", "filed", "deflection_percent"]
    export_headings = {
        "title": _("Department"),
        "shown": _("Forms with suggestions shown"),
        "opened": _("Suggestions opened"),
        "filed": _("Tickets filed after suggestions"),
        "deflection_percent": _("Deflection (%)"),
    }

    @cached_property
    def columns(self):
        return [
            FormattedColumn("title", label=_("Department")),
            FormattedColumn("shown", label=_("Suggestions shown")),
            FormattedColumn("opened", label=_("Suggestions opened")),
            FormattedColumn("filed", label=_("Tickets still filed")),
            FormattedColumn("deflection_rate", label=_("Deflection"), formatter=percent),
        ]

    @cached_property
    def figures(self):
        figures = queries.knowledge_base(self.scope, self.department_titles)
        for row in figures["departments"]:
            row["deflection_percent"] = share(row["deflection_rate"])
        return figures

    def get_rows(self):
        return self.figures["departments"]

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["kb"] = self.figures
        return context
