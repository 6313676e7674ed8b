"""The admin's answer when a PDF cannot be made on this server."""

import logging

from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

logger = logging.getLogger(__name__)


class PdfUnavailableView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_tickets/admin/pdf_unavailable.html"
    page_title = _("PDF not available")
    header_icon = "warning"
    back_url = None
    back_label = None

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        if self.back_url and self.back_label:
            items.append({"url": self.back_url, "label": self.back_label})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def get_context_data(self, **kwargs):
        return super().get_context_data(back_url=self.back_url, **kwargs)


def pdf_unavailable_response(request, error, *, back_url, back_label=None):
    """A 503 page saying what the server lacks, for any view that makes a PDF.

    ``back_url`` and ``back_label`` name the screen the PDF was asked for from.
    """
    logger.error("A PDF could not be made: %s", error)
    response = PdfUnavailableView.as_view(back_url=back_url, back_label=back_label)(request)
    response.status_code = 503
    return response
