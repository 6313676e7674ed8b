"""The account screen's actions and the statement PDF.

Each action is a POST (CSRF-checked) by a user with ``manage_billing`` (others get a
403) that calls one function of the billing workflow; refusals and invalid input come
back as an error message saying why. Refund, return, ending a grant and charging for
extra work first show a confirmation page (GET) with their form.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ... import billing
from ...models import IncidentGrant, LedgerEntry, SupportAccount
from ...money import format_money
from ...permissions import visible_tickets
from ...statements import Statement, StatementFilterForm, statement_pdf
from ...views.account import pdf_response, statement_rate_limited
from .accounts import account_url
from .common import BillingAccessMixin
from .forms import (
    AdjustForm,
    CreditLimitForm,
    DepositForm,
    EndGrantForm,
    ExtraChargeForm,
    GrantForm,
    RefundForm,
    ReturnForm,
)


def _errors(form):
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _next_url(request, fallback):
    value = request.POST.get("next") or request.GET.get("next")
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return fallback


class AccountActionView(BillingAccessMixin, View):
    """A POST on one account; back to its screen with a message."""

    needs_manage = True
    http_method_names = ["post"]
    form_class = None
    failure = _("Nothing was changed: %(reason)s")

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.account = get_object_or_404(
            SupportAccount.objects.select_related("customer"), pk=kwargs["pk"]
        )

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, self.failure % {"reason": _errors(form)})
            return redirect(account_url(self.account))
        if self.account.customer is None:
            messages.error(request, gettext("This account's customer no longer exists."))
            return redirect(account_url(self.account))
        try:
            done = self.act(form)
        except billing.BillingError as error:
            messages.error(request, self.failure % {"reason": str(error)})
        else:
            messages.success(request, done)
        return redirect(account_url(self.account))


class DepositView(AccountActionView):
    form_class = DepositForm

    def act(self, form):
        entry = billing.deposit(
            self.account.customer,
            form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            reference=form.reference("deposit"),
            actor=self.request.user,
        )
        return gettext("%(amount)s credited; the balance is %(balance)s.") % {
            "amount": format_money(entry.amount),
            "balance": format_money(entry.balance_after),
        }


class AdjustView(AccountActionView):
    form_class = AdjustForm

    def act(self, form):
        entry = billing.adjust(
            self.account.customer,
            form.signed_amount(),
            reason=form.cleaned_data["reason"],
            reference=form.reference("adjust"),
            actor=self.request.user,
        )
        return gettext("Balance adjusted by %(amount)s; it is now %(balance)s.") % {
            "amount": format_money(entry.amount),
            "balance": format_money(entry.balance_after),
        }


class GrantView(AccountActionView):
    form_class = GrantForm

    def act(self, form):
        grant = billing.grant_pack(
            self.account.customer,
            form.cleaned_data["pack"],
            reason=form.cleaned_data["reason"],
            reference=form.reference("grant"),
            actor=self.request.user,
        )
        return gettext("“%(pack)s” granted: %(count)s incidents.") % {
            "pack": grant.pack.name,
            "count": grant.quantity,
        }


class CreditLimitView(AccountActionView):
    form_class = CreditLimitForm

    def act(self, form):
        account = billing.set_credit_limit(
            self.account.customer,
            form.cleaned_data["credit_limit"],
            reason=form.cleaned_data["reason"],
            actor=self.request.user,
        )
        return gettext("The credit limit is now %(limit)s.") % {
            "limit": format_money(account.credit_limit)
        }


class StatementView(BillingAccessMixin, View):
    """The account's statement as PDF, for the period (and kind) of the screen's filter."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        account = get_object_or_404(
            SupportAccount.objects.select_related("customer"), pk=kwargs["pk"]
        )
        if statement_rate_limited(request.user):
            messages.error(
                request, gettext("Too many statements in a minute; please wait a moment.")
            )
            return redirect(account_url(account))
        form = StatementFilterForm(request.GET or None, with_kind=True)
        start, end, kind = form.values()
        content = statement_pdf(
            account,
            Statement(account, start=start, end=end, kind=kind),
            request=request,
            staff_copy=True,
        )
        return pdf_response(content, f"statement-{account.pk}.pdf")


class ConfirmActionView(BillingAccessMixin, WagtailAdminTemplateMixin, TemplateView):
    """GET: the form on its own page; POST: the workflow action."""

    needs_manage = True
    template_name = "wagtail_tickets/admin/billing/confirm.html"
    header_icon = "edit"
    form_class = None
    submit_label = None

    def get_object(self):
        raise NotImplementedError

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = self.get_object()

    @cached_property
    def back_url(self):
        return _next_url(self.request, account_url(self.account))

    def get_breadcrumbs_items(self):
        from django.urls import reverse

        from .accounts import NAMESPACE

        return self.breadcrumbs_items + [
            {"url": reverse(f"{NAMESPACE}:index"), "label": gettext("Support accounts")},
            {"url": account_url(self.account), "label": str(self.account)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            form=form or self.form_class(),
            object=self.object,
            account=self.account,
            back_url=self.back_url,
            next_url=self.request.POST.get("next") or self.request.GET.get("next") or "",
            submit_label=self.submit_label,
            summary=self.summary(),
        )
        return context

    def summary(self):
        return []

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            done = self.act(form)
        except billing.BillingError as error:
            form.add_error(None, str(error))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(request, done)
        return redirect(self.back_url)


class EntryActionView(ConfirmActionView):
    kinds = ()

    def get_object(self):
        entry = get_object_or_404(
            LedgerEntry.objects.select_related("account__customer", "grant__pack"),
            pk=self.kwargs["entry_pk"],
        )
        if entry.kind not in self.kinds:
            raise Http404
        self.account = entry.account
        return entry

    def summary(self):
        entry = self.object
        rows = [
            (gettext("Customer"), str(self.account)),
            (gettext("Entry"), entry.get_kind_display()),
            (gettext("Date"), entry.created_at),
        ]
        if entry.ticket_code:
            rows.append((gettext("Ticket"), entry.ticket_code))
        return rows


class RefundView(EntryActionView):
    kinds = LedgerEntry.CHARGE_KINDS
    form_class = RefundForm
    page_title = _("Refund a charge")
    submit_label = _("Refund")

    def summary(self):
        rows = super().summary()
        rows.append((gettext("Charged"), format_money(-self.object.amount)))
        rows.append((gettext("Refundable"), format_money(billing.refundable(self.object))))
        return rows

    def act(self, form):
        entry = billing.refund(
            self.object,
            form.cleaned_data.get("amount"),
            reason=form.cleaned_data["reason"],
            reference=form.reference("refund"),
            actor=self.request.user,
        )
        return gettext("%(amount)s refunded.") % {"amount": format_money(entry.amount)}


class ReturnView(EntryActionView):
    kinds = (LedgerEntry.Kind.USE,)
    form_class = ReturnForm
    page_title = _("Return an incident")
    submit_label = _("Return the incident")

    def summary(self):
        rows = super().summary()
        if self.object.grant is not None:
            rows.append((gettext("Grant"), self.object.grant.pack.name))
        return rows

    def act(self, form):
        billing.return_incident(
            self.object, reason=form.cleaned_data["reason"], actor=self.request.user
        )
        return gettext("The incident has been returned.")


class EndGrantView(ConfirmActionView):
    form_class = EndGrantForm
    page_title = _("End a grant")
    submit_label = _("End the grant")

    def get_object(self):
        grant = get_object_or_404(
            IncidentGrant.objects.select_related("account__customer", "pack"),
            pk=self.kwargs["grant_pk"],
        )
        self.account = grant.account
        return grant

    def summary(self):
        grant = self.object
        return [
            (gettext("Customer"), str(self.account)),
            (gettext("Pack"), grant.pack.name),
            (gettext("Incidents left"), grant.remaining),
        ]

    def act(self, form):
        grant = billing.end_grant(
            self.object, reason=form.cleaned_data["reason"], actor=self.request.user
        )
        return gettext("The grant has ended; %(pack)s no longer counts.") % {
            "pack": grant.pack.name
        }


class ExtraChargeView(ConfirmActionView):
    """Charge a ticket's customer for extra work (from the ticket screen's panel)."""

    form_class = ExtraChargeForm
    page_title = _("Charge for extra work")
    submit_label = _("Charge")

    def get_object(self):
        # Only a ticket the user may see in the desk.
        ticket = get_object_or_404(
            visible_tickets(self.request.user).select_related("customer"),
            pk=self.kwargs["ticket_pk"],
        )
        account = billing.account_for(ticket.customer)
        if account is None:
            account = SupportAccount(customer=ticket.customer)
        self.account = account
        return ticket

    @cached_property
    def back_url(self):
        from django.urls import reverse

        fallback = reverse("helpdesk_tickets:detail", args=[self.object.pk])
        return _next_url(self.request, fallback)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": self.back_url, "label": self.object.code},
            {"url": "", "label": self.get_page_title()},
        ]

    def summary(self):
        ticket = self.object
        rows = [
            (gettext("Ticket"), f"{ticket.code} {ticket.subject}"),
            (gettext("Customer"), ticket.customer_name),
        ]
        if self.account.pk:
            rows.append((gettext("Balance"), format_money(self.account.balance)))
        return rows

    def act(self, form):
        entry = billing.add_charge(
            self.object,
            form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            reference=form.reference("extra"),
            actor=self.request.user,
        )
        return gettext("%(amount)s charged for extra work on %(code)s.") % {
            "amount": format_money(-entry.amount),
            "code": self.object.code,
        }
