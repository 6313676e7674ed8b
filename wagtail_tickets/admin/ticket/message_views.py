"""Editing and deleting a message of a ticket's conversation."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ... import workflow
from ...models import Message
from ..forms import MessageEditForm
from .common import TicketSubpageMixin, can


class MessageMixin(TicketSubpageMixin):
    permission_codename = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.message = get_object_or_404(
            Message.objects.select_related("author"), pk=kwargs["message_pk"], ticket=self.ticket
        )
        self.message.ticket = self.ticket

    def dispatch(self, request, *args, **kwargs):
        if not can(request.user, self.permission_codename):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(ticket=self.ticket, message=self.message, ticket_url=self.ticket_url())
        return context


class EditMessageView(MessageMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_codename = "edit_message"
    template_name = "wagtail_tickets/admin/ticket_message_edit.html"
    page_title = _("Edit message")
    header_icon = "edit"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or MessageEditForm(initial={"body": self.message.body})
        return context

    def post(self, request, *args, **kwargs):
        form = MessageEditForm(request.POST)
        if not form.is_valid():
            messages.validation_error(request, gettext("The message could not be saved."), form)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        changed = workflow.edit_message(self.message, form.cleaned_data["body"], user=request.user)
        if changed:
            messages.success(request, gettext("Message edited."))
        return redirect(self.ticket_url() + f"#message-{self.message.pk}")


class DeleteMessageView(MessageMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_codename = "delete_message"
    template_name = "wagtail_tickets/admin/ticket_message_delete.html"
    page_title = _("Delete message")
    header_icon = "bin"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        first = (
            Message.objects.filter(ticket=self.ticket)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        context["is_first"] = first == self.message.pk
        return context

    def post(self, request, *args, **kwargs):
        try:
            workflow.delete_message(self.message, user=request.user)
        except workflow.WorkflowError:
            messages.error(request, gettext("The customer's first message cannot be deleted."))
            return redirect(self.ticket_url())
        messages.success(request, gettext("Message deleted."))
        return redirect(self.ticket_url())
