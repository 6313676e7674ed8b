"""An agent opens a ticket for a customer (phoned in, walked in)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.models import Site

from ... import workflow
from ...models import HelpdeskSettings, Message, Priority
from ..forms import CreateTicketForm
from .common import agent_departments, has_desk_access, inbox_url, url


class CreateTicketView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_tickets/admin/ticket_create.html"
    page_title = _("New ticket")
    header_icon = "plus"

    def dispatch(self, request, *args, **kwargs):
        if not has_desk_access(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            items.append({"url": inbox, "label": gettext("Inbox")})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def site_settings(self):
        try:
            return HelpdeskSettings.for_request(self.request)
        except Site.DoesNotExist:
            return None

    def get_form(self, data=None, files=None):
        initial = {}
        department = self.request.GET.get("department")
        if department and department.isdigit():
            initial["department"] = department
        return CreateTicketForm(
            data,
            files,
            initial=initial,
            departments=agent_departments(self.request.user),
            priorities=list(Priority.objects.all()),
            site_settings=self.site_settings(),
        )

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or self.get_form()
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST, request.FILES)
        if not form.is_valid():
            messages.validation_error(
                request, gettext("The ticket could not be created due to errors."), form
            )
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        customer, name, email = form.customer()
        try:
            ticket, _token = workflow.open_ticket(
                department=data["department"],
                subject=data["subject"],
                body=data["message"],
                customer=customer,
                customer_name=name,
                customer_email=email,
                attachments=data.get("attachments") or [],
                priority=data.get("priority"),
                # Nothing about the agent's browser belongs to the customer's ticket.
                submitter={},
                source=Message.Source.STAFF,
                actor=request.user,
            )
        except workflow.PaymentRequired as refusal:
            # A paid department: the customer's account cannot pay for it.
            form.add_error(None, str(refusal))
            messages.validation_error(
                request, gettext("The ticket could not be created due to errors."), form
            )
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            request,
            gettext("Ticket %(code)s opened for %(name)s; they have been sent the link.")
            % {"code": ticket.code, "name": name},
        )
        return redirect(url("detail", ticket.pk))
