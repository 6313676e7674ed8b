"""Actions on a ticket: close, reopen, star, and its files: attachments, transcripts."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.generic import View
from wagtail.admin import messages

from ... import workflow
from ...downloads import attachment_response
from ...models import Attachment, Star
from ..pdf_unavailable import pdf_unavailable_response
from .common import TicketMixin, TicketPostMixin, url


class LifecycleView(TicketPostMixin, View):
    """Close or reopen; the workflow says why when the action does not apply."""

    action = None  # workflow.close or workflow.reopen
    done_message = None

    def post(self, request, *args, **kwargs):
        try:
            type(self).action(self.ticket, user=request.user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, self.done_message % {"code": self.ticket.code})
        return self.done()


class CloseView(LifecycleView):
    action = workflow.close
    done_message = _("Ticket %(code)s closed.")


class ReopenView(LifecycleView):
    action = workflow.reopen
    done_message = _("Ticket %(code)s reopened.")


class RevokeLinksView(TicketPostMixin, View):
    """Every private link of the ticket stops working (one reached the wrong person)."""

    def post(self, request, *args, **kwargs):
        try:
            workflow.revoke_access_links(self.ticket, user=request.user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Every private link of %(code)s has been revoked.") % {"code": self.ticket.code},
            )
        return self.done()


class StarView(TicketPostMixin, View):
    def post(self, request, *args, **kwargs):
        deleted, _rows = Star.objects.filter(ticket=self.ticket, user=request.user).delete()
        if not deleted:
            Star.objects.get_or_create(ticket=self.ticket, user=request.user)
        return self.done()


class AttachmentDownloadView(TicketMixin, View):
    """A staff download: the same headers as the customer's download view."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        attachment = get_object_or_404(
            Attachment, pk=kwargs["attachment_pk"], message__ticket=self.ticket
        )
        return attachment_response(attachment)


class TranscriptView(TicketMixin, View):
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        from ...pdf import PdfUnavailable, ticket_transcript

        staff_copy = request.GET.get("notes") == "1"
        try:
            content = ticket_transcript(self.ticket, include_notes=staff_copy, request=request)
        except PdfUnavailable as error:
            return pdf_unavailable_response(
                request, error, back_url=url("detail", self.ticket.pk), back_label=self.ticket.code
            )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{self.ticket.code}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
