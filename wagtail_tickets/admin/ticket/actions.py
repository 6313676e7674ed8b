"""Actions on a ticket: close, reopen, star, and its files: attachments, transcripts."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

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


class ResumeMailView(TicketPostMixin, View):
    """Mail the customer's address again, which a delivery failure had stopped."""

    def post(self, request, *args, **kwargs):
        try:
            resumed = workflow.resume_mail(self.ticket, user=request.user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            if resumed:
                messages.success(
                    request,
                    _("Mail goes to %(address)s again.") % {"address": self.ticket.customer_email},
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
    """The ticket's transcript; long ones are made in the background (transcripts.py)."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        from ... import transcripts
        from ...pdf import PdfUnavailable, ticket_transcript

        staff_copy = request.GET.get("notes") == "1"
        if transcripts.made_in_background(self.ticket):
            return self.from_background(staff_copy)
        try:
            content = ticket_transcript(self.ticket, include_notes=staff_copy, request=request)
        except PdfUnavailable as error:
            return pdf_unavailable_response(
                request, error, back_url=url("detail", self.ticket.pk), back_label=self.ticket.code
            )
        return self.pdf_response(HttpResponse(content, content_type="application/pdf"))

    def pdf_response(self, response):
        response["Content-Disposition"] = f'attachment; filename="{self.ticket.code}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

    def from_background(self, staff_copy):
        from django.http import FileResponse
        from django.utils.translation import get_language

        from ... import background, tasks, transcripts

        language = get_language()
        name = transcripts.transcript_name(self.ticket, include_notes=staff_copy, language=language)
        if transcripts.stored(name):
            response = FileResponse(transcripts.open_stored(name), content_type="application/pdf")
            return self.pdf_response(response)
        if transcripts.claim(name):
            background.enqueue(
                tasks.make_transcript,
                ticket_id=self.ticket.pk,
                include_notes=staff_copy,
                language=language,
                name=name,
            )
        return TranscriptPendingView.as_view(ticket=self.ticket, again_url=request_url(self))(
            self.request
        )


def request_url(view):
    return view.request.get_full_path()


class TranscriptPendingView(WagtailAdminTemplateMixin, TemplateView):
    """ "Your PDF is being prepared": the same link serves it once it is made."""

    template_name = "wagtail_tickets/admin/transcript_pending.html"
    page_title = _("PDF transcript")
    header_icon = "doc-full"
    ticket = None
    again_url = None

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        items.append({"url": url("detail", self.ticket.pk), "label": self.ticket.code})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            ticket=self.ticket,
            again_url=self.again_url,
            back_url=url("detail", self.ticket.pk),
            **kwargs,
        )
