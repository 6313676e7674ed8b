"""The agent's inbox: a Wagtail listing of the tickets the user may see.

Every query starts from ``visible_tickets(request.user)``. Filters come from
``admin.filters.InboxFilterSet``; keyword search goes through Wagtail's search backend
(``search_tickets``); stars and saved searches are small POST views next to it; bulk
actions live in ``inbox_bulk`` and use Wagtail's bulk action framework.
"""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.defaults import permission_denied
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.models import IndexView
from wagtail.admin.viewsets.base import ViewSet

from ..inputs import local_url, search_text
from ..models import SavedSearch, Star, Ticket, TicketView
from ..models.tickets import attach_lookups
from ..permissions import visible_tickets
from ..spreadsheets import SafeSpreadsheetExportMixin
from .counts import display_count
from .filters import InboxFilterSet
from .inbox_columns import ColumnsForm, chosen_columns
from .inbox_pages import CappedPaginator, MatchesPaginator
from .inbox_search import search_tickets
from .inbox_table import (
    BadgeColumn,
    CheckboxColumn,
    CodeColumn,
    CustomerColumn,
    DueColumn,
    FastColumn,
    HumanDates,
    InboxTable,
    StarColumn,
    SubjectColumn,
    WhenColumn,
)
from .menu import HELPDESK_MENU_HOOK, OpenTicketCountMixin, is_desk_user

PAGE_SIZE = 20
DEFAULT_ORDERING = "-last_message_at"
#: What the inbox shows when opened with no query and no default saved search: the
#: active tickets the menu's count counts (mine, or unassigned in my departments).
DEFAULT_VIEW = "state=open&assignee=queue"
#: Query parameters that are not part of a saved search.
TRANSIENT_PARAMS = ("p", "all", "_w_filter_fragment")

#: What the listing reads: loading only these keeps 50 rows cheap. Statuses and
#: priorities come from the cached rows (attach_lookups), not from joins.
LISTED_FIELDS = (
    "code",
    "subject",
    "customer_name",
    "customer_email",
    "department_id",
    "status_id",
    "priority_id",
    "assignee_id",
    "created_at",
    "last_message_at",
    "last_customer_message_at",
    "due_at",
)

#: Read as plain columns of the page query rather than user instances. Department titles
#: come from the filters' department choices (see ``department_titles``): joining the
#: department pages led SQLite's planner to sort every visible ticket for one page.
LISTED_NAMES = {
    "wt_assignee_first": F("assignee__first_name"),
    "wt_assignee_last": F("assignee__last_name"),
    "wt_assignee_username": F("assignee__username"),
}

# name -> the model fields it sorts by; the default sort uses the last_message_at index.
SORTS = {
    "code": ["code"],
    "subject": ["subject", "pk"],
    "customer": ["customer_name", "pk"],
    "department": ["department__title", "pk"],
    "status": ["status__sort_order", "pk"],
    "priority": ["priority__sort_order", "pk"],
    "assignee": ["assignee__first_name", "assignee__last_name", "assignee__username", "pk"],
    "created_at": ["created_at"],
    "last_message_at": ["last_message_at"],
    "due_at": ["due_at"],
}


# --------------------------------------------------------------------------------------
# Who may use the desk
# --------------------------------------------------------------------------------------


def can_use_inbox(user):
    """Desk users: staff members, holders of "view all departments" and superusers."""
    return is_desk_user(user)


def forbidden(request):
    # A real 403 rather than Wagtail's redirect to the dashboard: the desk is not for them.
    return permission_denied(request, exception=None)


class DeskAccessMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_use_inbox(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


def ticket_url(ticket):
    """The ticket screen, or None while it is not installed."""
    try:
        return reverse("helpdesk_tickets:detail", args=[ticket.pk])
    except NoReverseMatch:
        return None


def safe_next(request, fallback):
    return local_url(request, request.POST.get("next") or request.GET.get("next"), fallback)


def saved_query_string(params):
    """The query string a saved search keeps: filters, search and sort, not the page."""
    query = params.copy() if isinstance(params, QueryDict) else QueryDict(mutable=True)
    if not isinstance(params, QueryDict):
        query.update(params)
    for key in TRANSIENT_PARAMS:
        query.pop(key, None)
    for key in [k for k, values in query.lists() if not any(values)]:
        query.pop(key)
    return query.urlencode()


def searches_for(user):
    """The user's saved searches and the ones others share, the user's first."""
    return (
        SavedSearch.objects.filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .annotate(mine=Case(When(owner=user, then=Value(0)), default=Value(1)))
        .order_by("mine", "name", "pk")
    )


def inbox_queryset(request, params):
    """The tickets the inbox shows for ``params`` (filters and ``q``), unordered.

    Used by "select all in listing" of the bulk actions.
    """
    queryset = visible_tickets(request.user)
    filterset = InboxFilterSet(params, queryset, request=request)
    if filterset.is_valid():
        queryset = filterset.qs
    query = search_text(params.get("q", ""))
    if query:
        queryset = search_tickets(queryset, query, default_ordering=DEFAULT_ORDERING)
    return queryset


def assignee_name(ticket):
    """The assignee as ``User.get_full_name`` or the username would name them, from the
    columns of the page query."""
    if not ticket.assignee_id:
        return "—"
    full = f"{ticket.wt_assignee_first} {ticket.wt_assignee_last}".strip()
    return full or ticket.wt_assignee_username


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


class InboxIndexView(DeskAccessMixin, SafeSpreadsheetExportMixin, IndexView):
    model = Ticket
    template_name = "wagtail_tickets/admin/inbox.html"
    results_template_name = "wagtail_tickets/admin/inbox_results.html"
    index_url_name = "helpdesk_inbox:index"
    index_results_url_name = "helpdesk_inbox:index_results"
    filterset_class = InboxFilterSet
    default_ordering = DEFAULT_ORDERING
    paginate_by = PAGE_SIZE
    page_title = _("Inbox")
    header_icon = "tasks"
    # Access is the desk's own rule (DeskAccessMixin), not the model's permission policy.
    permission_policy = None
    any_permission_required = None
    permission_required = None
    table_classname = "listing wt-inbox"
    table_class = InboxTable
    # Tickets are not in Wagtail's search index: search_queryset asks the tickets' own
    # search table, so the search box is switched on here.
    is_searchable = True

    def get(self, request, *args, **kwargs):
        # Opening the inbox with no query applies my default saved search; any explicit
        # parameter (``?all=1`` for "everything") shows what was asked for.
        if not self.results_only and not request.GET:
            default = self.default_search
            if default is not None and default.query_string:
                return redirect(f"{self.index_url}?{default.query_string}")
        return super().get(request, *args, **kwargs)

    @cached_property
    def default_search(self):
        user = self.request.user
        mine = (s for s in self.saved_searches if s.is_default and s.owner_id == user.pk)
        return next(mine, None)

    @cached_property
    def is_default_view(self):
        """Opened with no query at all (and no saved default): the built-in default view."""
        return not self.request.GET and self.default_search is None

    @cached_property
    def filter_params(self):
        """The query the filters read: the request's, or the built-in default view's."""
        if self.is_default_view:
            return QueryDict(DEFAULT_VIEW)
        return self.request.GET

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "data": self.filter_params}

    @cached_property
    def active_filters(self):
        # The pills' "remove" links start from the filters applied, default view
        # included, and carry ``all=1``: removing the last filter shows every ticket
        # rather than falling back to the default view.
        request = self.request
        original = request.GET
        query = self.filter_params.copy()
        query["all"] = "1"
        request.GET = query
        try:
            return super().active_filters
        finally:
            request.GET = original

    @cached_property
    def saved_searches(self):
        # One query serves the list and the default-search redirect.
        return list(searches_for(self.request.user))

    @cached_property
    def verbose_name_plural(self):
        return Ticket._meta.verbose_name_plural

    def get_base_queryset(self):
        # The user's stars ride along as an EXISTS column of the page query: computed
        # for the page's rows only, and no query of their own.
        # The user's last view rides along the same way, for the unread marker (the
        # index on views leads with ticket and user, newest first).
        user = self.request.user
        last_view = (
            TicketView.objects.filter(ticket=OuterRef("pk"), user=user)
            .order_by("-viewed_at")
            .values("viewed_at")[:1]
        )
        return (
            visible_tickets(user)
            .only(*LISTED_FIELDS)
            .annotate(
                wt_starred=Exists(Star.objects.filter(user=user, ticket=OuterRef("pk"))),
                wt_seen_at=Subquery(last_view),
            )
        )

    @cached_property
    def department_titles(self):
        """{id: title} of the departments this user sees, as the filters loaded them.

        Every ticket the inbox lists is in one of them (or in none, once its department
        is deleted).
        """
        department = self.filters.filters["department"] if self.filters else None
        choices = department.extra.get("choices", []) if department else []
        return {int(pk): title for pk, title in choices}

    def get_paginator(self, queryset, per_page, **kwargs):
        if not self.is_searching:
            return CappedPaginator(queryset, per_page, **kwargs)
        return MatchesPaginator(
            queryset,
            per_page,
            requested=self.request.GET.get(self.page_kwarg),
            load_rows=self.rows_by_key,
            **kwargs,
        )

    def rows_by_key(self, keys):
        """The listed tickets ``keys``, in that order, with the table's columns."""
        if not keys:
            return []
        rows = list(self.get_base_queryset().filter(pk__in=keys).annotate(**LISTED_NAMES))
        attach_lookups(rows)
        by_key = {ticket.pk: ticket for ticket in rows}
        return [by_key[key] for key in keys if key in by_key]

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        if isinstance(object_list, QuerySet):
            # The names join department pages and users: for the page's rows only, not
            # in the count, which would otherwise join them for every visible ticket.
            object_list = list(object_list.annotate(**LISTED_NAMES))
            attach_lookups(object_list)
            page.object_list = object_list
        return paginator, page, object_list, is_paginated

    def get_valid_orderings(self):
        return [*SORTS, *(f"-{key}" for key in SORTS)]

    def order_queryset(self, queryset):
        ordering = self.ordering or DEFAULT_ORDERING
        descending = ordering.startswith("-")
        fields = SORTS[ordering.lstrip("-")]
        expressions = []
        for field in fields:
            if field == "due_at":
                # Tickets without a due time go last both ways, on every database.
                expr = (
                    F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
                )
                expressions.append(expr)
            else:
                expressions.append(f"-{field}" if descending else field)
        return queryset.order_by(*expressions)

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_tickets(
            queryset,
            search_text(self.search_query),
            default_ordering=DEFAULT_ORDERING,
        )

    @cached_property
    def columns(self):
        dates = HumanDates(timezone.now())
        optional = {
            "customer": CustomerColumn(
                "customer", label=_("Customer"), accessor=lambda t: t, sort_key="customer"
            ),
            "department": FastColumn(
                "department",
                label=_("Department"),
                accessor=lambda t: self.department_titles.get(t.department_id, ""),
                sort_key="department",
                classname="wt-inbox-department",
            ),
            "priority": BadgeColumn("priority", label=_("Priority"), sort_key="priority"),
            "assignee": FastColumn(
                "assignee",
                label=_("Assignee"),
                accessor=assignee_name,
                sort_key="assignee",
                classname="wt-inbox-assignee",
            ),
            "created_at": WhenColumn(
                "created_at", label=_("Created"), sort_key="created_at", dates=dates
            ),
            "last_message_at": WhenColumn(
                "last_message_at", label=_("Last reply"), sort_key="last_message_at", dates=dates
            ),
            "due_at": DueColumn("due_at", label=_("Due"), sort_key="due_at", dates=dates),
        }
        shown = chosen_columns(self.request.user)
        columns = [
            CheckboxColumn("bulk_actions", obj_type="ticket"),
            StarColumn("star", label=_("Star"), classname="wt-inbox-star"),
            CodeColumn("code", label=_("Code"), sort_key="code"),
            SubjectColumn(
                "subject", label=_("Subject"), sort_key="subject", classname="wt-inbox-subject"
            ),
        ]
        for name in ("customer", "department"):
            if name in shown:
                columns.append(optional[name])
        columns.append(BadgeColumn("status", label=_("Status"), sort_key="status"))
        for name in ("priority", "assignee", "created_at", "last_message_at", "due_at"):
            if name in shown:
                columns.append(optional[name])
        return columns

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        query_string = saved_query_string(self.request.GET)
        context.update(
            current_query_string=query_string,
            saved_searches=self.saved_searches,
            save_search_form=SaveSearchForm(initial={"query_string": query_string}),
            save_search_url=reverse("helpdesk_inbox:save_search"),
            quick_views=self.quick_views(),
            all_url=f"{self.index_url}?all=1",
            columns_form=ColumnsForm(user=self.request.user),
            columns_url=reverse("helpdesk_inbox:columns"),
        )
        paginator = context.get("paginator")
        if getattr(paginator, "capped", False):
            context.update(
                items_capped=True,
                items_count_display=display_count(paginator.count, paginator.cap),
                items_cap=paginator.cap,
            )
        return context

    def quick_views(self):
        current = DEFAULT_VIEW if self.is_default_view else saved_query_string(self.request.GET)
        views = [
            (_("My queue"), DEFAULT_VIEW),
            (_("My open tickets"), "assignee=me&state=open"),
            (_("Unassigned"), "assignee=unassigned&state=open"),
            (_("Overdue"), "overdue=1"),
            (_("Starred"), "starred=1"),
            (_("All open"), "state=open"),
            (_("Unhappy customers"), "unhappy=1"),
        ]
        return [
            {"label": label, "url": f"{self.index_url}?{qs}", "active": current == qs}
            for label, qs in views
        ]


class SaveSearchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    query_string = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    shared = forms.BooleanField(label=_("Share with other agents"), required=False)
    is_default = forms.BooleanField(label=_("Make it my default"), required=False)


class SaveSearchView(DeskAccessMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        index_url = reverse("helpdesk_inbox:index")
        form = SaveSearchForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The search could not be saved: give it a name."))
            return redirect(safe_next(request, index_url))
        data = form.cleaned_data
        query_string = saved_query_string(QueryDict(data["query_string"]))
        with transaction.atomic():
            if data["is_default"]:
                SavedSearch.objects.filter(owner=request.user, is_default=True).update(
                    is_default=False
                )
            SavedSearch.objects.create(
                owner=request.user,
                name=data["name"].strip(),
                query_string=query_string,
                shared=data["shared"],
                is_default=data["is_default"],
            )
        messages.success(request, _("Search “%(name)s” saved.") % {"name": data["name"]})
        # ``all=1`` keeps an empty saved query from bouncing to the default search.
        return redirect(f"{index_url}?{query_string or 'all=1'}")


class ColumnsView(DeskAccessMixin, View):
    """Save which optional columns the agent's inbox shows."""

    http_method_names = ["post"]

    def post(self, request):
        form = ColumnsForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, _("Choose among the columns listed."))
        elif form.save():
            messages.success(request, _("Your inbox columns have been saved."))
        else:
            messages.error(
                request, _("Only staff members with a desk profile can choose their columns.")
            )
        return redirect(safe_next(request, reverse("helpdesk_inbox:index")))


class StarView(DeskAccessMixin, View):
    """Toggle the user's star on a ticket; a preference, not ticket state."""

    http_method_names = ["post"]

    def post(self, request, pk):
        ticket = get_object_or_404(visible_tickets(request.user), pk=pk)
        deleted, _rows = Star.objects.filter(user=request.user, ticket=ticket).delete()
        if not deleted:
            Star.objects.get_or_create(user=request.user, ticket=ticket)
        return redirect(safe_next(request, reverse("helpdesk_inbox:index")))


# --------------------------------------------------------------------------------------
# Viewset and registration
# --------------------------------------------------------------------------------------


class InboxMenuItem(OpenTicketCountMixin, MenuItem):
    def is_shown(self, request):
        return can_use_inbox(request.user)


class InboxViewSet(ViewSet):
    name = "helpdesk_inbox"
    icon = "tasks"
    menu_label = _("Inbox")
    menu_name = "helpdesk_inbox"
    # First in the Helpdesk menu: it is the agent's home.
    menu_order = 10
    menu_hook = HELPDESK_MENU_HOOK
    menu_item_class = InboxMenuItem

    def get_urlpatterns(self):
        return [
            path("", InboxIndexView.as_view(), name="index"),
            path("results/", InboxIndexView.as_view(results_only=True), name="index_results"),
            path("searches/save/", SaveSearchView.as_view(), name="save_search"),
            path("<int:pk>/star/", StarView.as_view(), name="star"),
            path("columns/", ColumnsView.as_view(), name="columns"),
        ]


@hooks.register("register_admin_viewset")
def register_inbox_viewset():
    return InboxViewSet()


# Bulk actions register their own hooks.
from . import inbox_bulk  # noqa: E402, F401

__all__ = [
    "InboxFilterSet",
    "InboxIndexView",
    "InboxViewSet",
    "can_use_inbox",
    "inbox_queryset",
    "search_tickets",
]
