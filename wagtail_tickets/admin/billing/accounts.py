"""Support accounts: the listing (search, filters, sorting, CSV/XLSX), opening an
account, and the account screen with its ledger, grants and actions.

The listing costs the same few queries for ten accounts or a hundred thousand: it
reads the denormalised balance, incidents and next expiry of the page's accounts with
their customers joined, and a COUNT. The account screen reads the page of ledger
entries, their count, the grants, what the page's charges still may refund and which
of its incidents came back: a fixed number of queries whatever the history.
"""

from datetime import timedelta

from django.contrib.admin.utils import quote
from django.core.paginator import Paginator
from django.db.models import Sum
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import CreateView, DeleteView, EditView, IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.models import ModelLogEntry

from ... import billing
from ...models import LedgerEntry, SupportAccount
from ...spreadsheets import SafeSpreadsheetExportMixin
from ...statements import Statement, StatementFilterForm, current_grants
from ..filters import CheckboxFilter
from ..menu import HELPDESK_MENU_HOOK
from .common import (
    AgoColumn,
    DayColumn,
    DirectCellMixin,
    MoneyColumn,
    NumberColumnRight,
    RealForbiddenMixin,
)
from .forms import AdjustForm, CreditLimitForm, DepositForm, GrantForm, OpenAccountForm
from .policies import can_manage_billing

NAMESPACE = "helpdesk_billing_accounts"
EXPIRING_DAYS = 30
ENTRIES_PER_PAGE = 25
HISTORY_SHOWN = 10


def account_url(account, name="inspect"):
    return reverse(f"{NAMESPACE}:{name}", args=[quote(account.pk)])


class AccountFilterSet(WagtailFilterSet):
    has_balance = CheckboxFilter(label=_("Has a balance"), method="filter_has_balance")
    negative = CheckboxFilter(label=_("Negative balance"), method="filter_negative")
    incidents = CheckboxFilter(label=_("Has incidents left"), method="filter_incidents")
    expiring = CheckboxFilter(label=_("Incidents expire within 30 days"), method="filter_expiring")

    class Meta:
        model = SupportAccount
        fields = []

    def filter_has_balance(self, queryset, name, value):
        return queryset.filter(balance__gt=0) if value else queryset

    def filter_negative(self, queryset, name, value):
        return queryset.filter(balance__lt=0) if value else queryset

    def filter_incidents(self, queryset, name, value):
        return queryset.filter(incidents_left__gt=0) if value else queryset

    def filter_expiring(self, queryset, name, value):
        if not value:
            return queryset
        now = timezone.now()
        return queryset.filter(
            next_expiry_at__gt=now, next_expiry_at__lte=now + timedelta(days=EXPIRING_DAYS)
        )


class CustomerColumn(DirectCellMixin, Column):
    """The customer, linked to the account screen, with their address."""

    cell_class = "title"

    def cell_text(self, instance):
        customer = instance.customer
        url = account_url(instance)
        if customer is None:
            return format_html('<a href="{}">{}</a>', url, gettext("Former customer"))
        return format_html(
            '<div class="title-wrapper"><a href="{}">{}</a></div><div class="wt-muted">{}</div>',
            url,
            customer.get_full_name() or customer.get_username(),
            customer.email,
        )


class AccountIndexView(RealForbiddenMixin, SafeSpreadsheetExportMixin, IndexView):
    default_ordering = "-updated_at"
    add_item_label = _("Open an account")
    list_export = [
        "customer.username",
        "customer.get_full_name",
        "customer.email",
        "balance",
        "credit_limit",
        "incidents_left",
        "next_expiry_at",
        "updated_at",
        "created_at",
    ]
    export_headings = {
        "customer.username": _("Username"),
        "customer.get_full_name": _("Name"),
        "customer.email": _("E-mail"),
        "balance": _("Balance"),
        "credit_limit": _("Credit limit"),
        "incidents_left": _("Incidents left"),
        "next_expiry_at": _("Next expiry"),
        "updated_at": _("Last activity"),
        "created_at": _("Customer since"),
    }

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("customer")

    def get_filename(self):
        return f"support-accounts-{timezone.localdate():%Y-%m-%d}"

    def to_row_dict(self, item):
        if item.customer is None:
            row = dict.fromkeys(self.list_export, "")
            for field in ("balance", "credit_limit", "incidents_left", "next_expiry_at"):
                row[field] = getattr(item, field)
            row["updated_at"], row["created_at"] = item.updated_at, item.created_at
            row["customer.get_full_name"] = str(item)
            return row
        return super().to_row_dict(item)

    @cached_property
    def columns(self):
        return [
            CustomerColumn(
                "customer",
                label=_("Customer"),
                sort_key="customer__email",
            ),
            MoneyColumn("balance", label=_("Balance"), sort_key="balance"),
            MoneyColumn("credit_limit", label=_("Credit limit"), sort_key="credit_limit"),
            NumberColumnRight(
                "incidents_left", label=_("Incidents left"), sort_key="incidents_left"
            ),
            DayColumn("next_expiry_at", label=_("Next expiry"), sort_key="next_expiry_at"),
            AgoColumn("updated_at", label=_("Last activity"), sort_key="updated_at"),
        ]

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        # A stable order for pagination when many rows share the sorted value.
        ordering = list(queryset.query.order_by)
        if ordering and ordering[-1] not in ("pk", "-pk", "id", "-id"):
            direction = "-" if str(ordering[0]).startswith("-") else ""
            queryset = queryset.order_by(*ordering, f"{direction}pk")
        return queryset


class OpenAccountView(RealForbiddenMixin, CreateView):
    """Open an account for a customer (it opens by itself on a first deposit or grant,
    too); then the account screen."""

    page_title = _("Open a support account")

    def get_form_class(self):
        return OpenAccountForm

    def form_valid(self, form):
        account, opened = billing.open_account(
            form.cleaned_data["customer"], actor=self.request.user
        )
        if opened:
            messages.success(
                self.request,
                gettext("Support account opened for %(customer)s.") % {"customer": account},
            )
        else:
            messages.info(
                self.request,
                gettext("%(customer)s already has an account.") % {"customer": account},
            )
        return redirect(account_url(account))


class AccountView(RealForbiddenMixin, InspectView):
    """The account screen: balance, incidents per grant, the ledger with filters, the
    actions, the history and the statement PDF."""

    template_name = "wagtail_tickets/admin/billing/account.html"
    any_permission_required = ["view"]

    def get_object(self, queryset=None):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(SupportAccount.objects.select_related("customer"), pk=self.pk)

    def get_page_title(self):
        return gettext("Support account")

    def get_page_subtitle(self):
        return str(self.object)

    @cached_property
    def header_more_buttons(self):
        return []

    @cached_property
    def header_buttons(self):
        query = self.request.GET.copy()
        query.pop("page", None)
        url = account_url(self.object, "statement")
        if query:
            url += "?" + query.urlencode()
        return [HeaderButton(gettext("Statement PDF"), url=url, icon_name="download")]

    @cached_property
    def can_manage(self):
        return can_manage_billing(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
        filter_form = StatementFilterForm(self.request.GET or None, with_kind=True)
        start, end, kind = filter_form.values()
        statement = Statement(account, start=start, end=end, kind=kind)
        paginator = Paginator(
            statement.entries().select_related("grant__pack", "actor"), ENTRIES_PER_PAGE
        )
        page_obj = paginator.get_page(self.request.GET.get("page"))
        entries = list(page_obj.object_list)
        self.decorate_entries(entries)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            account=account,
            grants=current_grants(account),
            filter_form=filter_form,
            statement=statement,
            page_obj=page_obj,
            entries=entries,
            query_string=query.urlencode(),
            can_manage=self.can_manage,
            history=list(
                ModelLogEntry.objects.for_instance(account)
                .select_related("user")
                .order_by("-timestamp", "-pk")[:HISTORY_SHOWN]
            ),
        )
        if self.can_manage:
            context.update(
                deposit_form=DepositForm(),
                adjust_form=AdjustForm(),
                grant_form=GrantForm(),
                credit_form=CreditLimitForm(initial={"credit_limit": account.credit_limit}),
                action_urls={
                    name: account_url(account, name)
                    for name in ("deposit", "adjust", "grant", "credit_limit")
                },
            )
        return context

    def decorate_entries(self, entries):
        """What each charge on the page may still refund, and whether each used
        incident came back: two queries for the page."""
        charges = [e.pk for e in entries if e.kind in LedgerEntry.CHARGE_KINDS]
        uses = [e.pk for e in entries if e.kind == LedgerEntry.Kind.USE]
        refunded = {}
        if charges:
            refunded = dict(
                LedgerEntry.objects.filter(related__in=charges, kind=LedgerEntry.Kind.REFUND)
                .values("related")
                .annotate(total=Sum("amount"))
                .values_list("related", "total")
            )
        returned = set()
        if uses:
            returned = set(
                LedgerEntry.objects.filter(
                    related__in=uses, kind=LedgerEntry.Kind.RETURN
                ).values_list("related", flat=True)
            )
        for entry in entries:
            entry.refund_url = entry.return_url = None
            if not self.can_manage:
                continue
            if entry.kind in LedgerEntry.CHARGE_KINDS:
                left = -entry.amount - (refunded.get(entry.pk) or 0)
                entry.refundable = left
                if left > 0:
                    entry.refund_url = reverse(f"{NAMESPACE}:refund", args=[entry.pk])
            elif entry.kind == LedgerEntry.Kind.USE and entry.pk not in returned:
                entry.return_url = reverse(f"{NAMESPACE}:return", args=[entry.pk])


class NoEditView(RealForbiddenMixin, EditView):
    """Accounts change only through the workflow's actions."""

    def dispatch(self, request, *args, **kwargs):
        return permission_denied(request, exception=None)


class NoDeleteView(RealForbiddenMixin, DeleteView):
    """Accounts and their ledgers are kept."""

    def dispatch(self, request, *args, **kwargs):
        return permission_denied(request, exception=None)


class AccountViewSet(ModelViewSet):
    model = SupportAccount
    name = NAMESPACE
    url_prefix = "helpdesk/billing/accounts"
    icon = "user"
    menu_label = _("Support accounts")
    menu_name = "helpdesk_billing_accounts"
    menu_order = 82
    menu_hook = HELPDESK_MENU_HOOK
    add_to_admin_menu = False
    copy_view_enabled = False
    inspect_view_enabled = True
    add_to_reference_index = False
    index_view_class = AccountIndexView
    add_view_class = OpenAccountView
    inspect_view_class = AccountView
    edit_view_class = NoEditView
    delete_view_class = NoDeleteView
    filterset_class = AccountFilterSet
    search_fields = [
        "customer__username",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
    ]
    search_backend_name = None
    list_per_page = 20
    form_fields = []
    export_filename = "support-accounts"

    def get_urlpatterns(self):
        from . import actions

        return super().get_urlpatterns() + [
            path("<int:pk>/deposit/", actions.DepositView.as_view(), name="deposit"),
            path("<int:pk>/adjust/", actions.AdjustView.as_view(), name="adjust"),
            path("<int:pk>/grant/", actions.GrantView.as_view(), name="grant"),
            path("<int:pk>/credit-limit/", actions.CreditLimitView.as_view(), name="credit_limit"),
            path("<int:pk>/statement/", actions.StatementView.as_view(), name="statement"),
            path("entries/<int:entry_pk>/refund/", actions.RefundView.as_view(), name="refund"),
            path("entries/<int:entry_pk>/return/", actions.ReturnView.as_view(), name="return"),
            path("grants/<int:grant_pk>/end/", actions.EndGrantView.as_view(), name="end_grant"),
            path(
                "tickets/<int:ticket_pk>/charge/",
                actions.ExtraChargeView.as_view(),
                name="extra_charge",
            ),
        ]

    def get_form_class(self, for_update=False):
        return OpenAccountForm

    @property
    def index_template_name(self):
        return "wagtail_tickets/admin/billing/index.html"
