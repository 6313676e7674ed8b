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

    def get_context_data(self, **kwargs):
        return super().get_context_data(back_url=self.back_url, **kwargs)


def pdf_unavailable_response(request, error, *, back_url):
    """A 503 page saying what the server lacks, for any view that makes a PDF."""
    logger.error("A PDF could not be made: %s", error)
    response = PdfUnavailableView.as_view(back_url=back_url)(request)
    response.status_code = 503
    return response
