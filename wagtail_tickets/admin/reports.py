"""The "Frequent requests" report: what customers keep asking, and which of it the
knowledge base already answers.

Resolved and closed tickets are counted per department and topic key
(``Ticket.subject_key``, see ``topics.py``) in the topic rollups the workflow keeps
(``analytics.rollups``), so a year costs the same whatever the history: one query sums
the period's months and edge days per group and finds the latest resolution. For the
groups on the page two more queries find each group's "best" ticket (most messages,
latest resolved first; one index walk per group) and the live article covering its
topic, if any (its title's key is the same, or it was written from a ticket with that
key). Editors start a new article from the best ticket of an uncovered group.

The period is whole days in the site's time zone, today included. Only statuses of a
resolved or closed kind count, as they are when the report is read.

The page costs the same number of queries however many tickets and groups there are: a
count and the page of groups, the best tickets, the covering articles, the department
choices and at most one to learn whether the user may add articles.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import F, Value
from django.urls import include, path, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.utils import get_admin_base_url
from wagtail.admin.views.reports import ReportView

from ..analytics import requests
from ..analytics.percentiles import raw_rows
from ..analytics.periods import Period
from ..analytics.scope import Scope, as_datetime
from ..models import ArticlePage, Status, Ticket
from ..models.tickets import status_ids
from ..permissions import sees_all_departments
from ..spreadsheets import SafeSpreadsheetExportMixin
from .filters import CheckboxFilter, visible_departments
from .inbox_table import FastColumn, HumanDates, InboxTable, WhenColumn, esc, url_maker
from .knowledge import can_create_articles
from .menu import HELPDESK_MENU_HOOK, is_desk_user

NAMESPACE = "helpdesk_reports"
TICKET_URL_NAME = "helpdesk_tickets:detail"
# The ticket -> article conversion; without it the rows have no action.
CREATE_ARTICLE_URL_NAME = "helpdesk_tickets:create_article"
ARTICLE_EDIT_URL_NAME = "wagtailadmin_pages:edit"

PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30
DEFAULT_MINIMUM = 2
#: The most groups one export writes, busiest first.
EXPORT_MAX_ROWS = 10_000


# --------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------


def covering_articles(keys=None):
    """{topic key: (article id, title)}: the live article covering each key.

    An article covers the key of its title and the key of the ticket it was written
    from; a title match wins, then the latest published. One query for the keys given
    (a page of groups), or for every live article.
    """
    live = ArticlePage.objects.live().order_by()
    by_title = live.exclude(topic_key="")
    by_source = live.filter(source_ticket__isnull=False)
    if keys is not None:
        by_title = by_title.filter(topic_key__in=keys)
        by_source = by_source.filter(source_ticket__subject_key__in=keys)
    columns = ("wt_key", "wt_source", "pk", "title", "last_published_at")
    rows = (
        by_title.annotate(wt_key=F("topic_key"), wt_source=Value(1))
        .values_list(*columns)
        .union(
            by_source.annotate(
                wt_key=F("source_ticket__subject_key"), wt_source=Value(2)
            ).values_list(*columns),
            all=True,
        )
    )
    found = {}
    for key, source, pk, title, published in rows:
        rank = (source, -(published.timestamp() if published else 0), -pk)
        if key not in found or rank < found[key][0]:
            found[key] = (rank, (pk, title))
    return {key: article for key, (_rank, article) in found.items()}


def covered_keys():
    """Querysets of the topic keys live articles cover (by title, by source ticket): two
    uncorrelated subqueries, each evaluated once."""
    live = ArticlePage.objects.live().order_by()
    return [
        live.values("topic_key"),
        live.filter(source_ticket__isnull=False).values("source_ticket__subject_key"),
    ]


# --------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------


class MinimumFilter(django_filters.Filter):
    field_class = forms.IntegerField


class FrequentRequestsFilterSet(WagtailFilterSet):
    """The report's form. Period and department narrow the tickets before they are
    grouped, the minimum and "not covered" narrow the groups, so the view applies the
    cleaned values itself (``FrequentRequestsView.options``)."""

    period = django_filters.ChoiceFilter(
        label=_("Resolved in the last"),
        choices=[
            (str(days), label)
            for days, label in zip(
                PERIODS,
                (_("7 days"), _("30 days"), _("90 days"), _("365 days")),
                strict=True,
            )
        ],
        empty_label=None,
        initial=str(DEFAULT_PERIOD),
        widget=forms.RadioSelect,
    )
    department = django_filters.ChoiceFilter(
        label=_("Department"), empty_label=_("All departments")
    )
    minimum = MinimumFilter(
        label=_("Minimum number of tickets"),
        initial=DEFAULT_MINIMUM,
        min_value=1,
        max_value=100000,
    )
    uncovered = CheckboxFilter(label=_("Only topics no article covers"))

    #: Values used when the query string leaves a filter out; shown as selected.
    defaults = {"period": str(DEFAULT_PERIOD), "minimum": str(DEFAULT_MINIMUM)}

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None:
            data = data.copy()
            for name, value in self.defaults.items():
                if not data.get(name):
                    data[name] = value
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.filters["department"].extra["choices"] = [
            (str(pk), title)
            for pk, title in visible_departments(request.user).values_list("pk", "title")
        ]


# --------------------------------------------------------------------------------------
# Rows and columns
# --------------------------------------------------------------------------------------


class FrequentRequest:
    """One group of the report, with the links its row and its export need."""

    def __init__(self, group, best_ticket, article, urls):
        self.department_id = group["department"]
        self.department = group["department__title"] or "—"
        self.topic_key = group["subject_key"]
        self.count = group["count"]
        self.last_resolved = group["last_resolved"]
        covering_id, self.covering_title = article or (None, "")
        self.covered = covering_id is not None
        self.covering_url = urls["article"](covering_id) if self.covered else None
        best_ticket_id, code, subject = best_ticket or (None, "", "")
        self.best_ticket_id = best_ticket_id
        self.best_ticket_code = code
        self.topic = subject or "—"
        self.best_ticket_url = urls["ticket"](best_ticket_id) if best_ticket_id else None
        self.create_article_url = None
        if best_ticket_id and not self.covered:
            target = urls["create_article"](best_ticket_id)
            if target and urls["may_add_articles"]():
                self.create_article_url = target


class TopicPaginator(WagtailPaginator):
    """Counts the groups as topics; Wagtail would name them after the ticket model."""

    @cached_property
    def items_count_label(self):
        return ngettext("%(count)s topic", "%(count)s topics", self.count) % {"count": self.count}


class TopicColumn(FastColumn):
    """The topic by a subject people wrote. Its key (word stems) is for the export and
    scripts, not for reading: it goes in an attribute. A page's cells are built as
    strings (see ``inbox_table``): a template per cell cost more than the report's SQL."""

    def cell_html(self, instance, parent_context):
        return (
            f'<td class="title" data-topic-key="{esc(instance.topic_key)}">'
            f'<div class="title-wrapper">{esc(instance.topic)}</div></td>'
        )


class CoveredColumn(FastColumn):
    def cell(self, instance, parent_context):
        if not instance.covered:
            return "—"
        if instance.covering_url:
            return f'<a href="{esc(instance.covering_url)}">{esc(instance.covering_title)}</a>'
        return esc(instance.covering_title)


class BestTicketColumn(FastColumn):
    def cell(self, instance, parent_context):
        if instance.best_ticket_url:
            return f'<a href="{esc(instance.best_ticket_url)}">{esc(instance.best_ticket_code)}</a>'
        return esc(instance.best_ticket_code)


class ActionColumn(FastColumn):
    def cell(self, instance, parent_context):
        if not instance.create_article_url:
            return ""
        if not hasattr(self, "_label"):
            self._label = esc(gettext("Create article"))
        label = esc(
            gettext("Create article from the most detailed ticket, %(code)s")
            % {"code": instance.best_ticket_code}
        )
        return (
            f'<a class="button button-small button-secondary" '
            f'href="{esc(instance.create_article_url)}" aria-label="{label}">{self._label}</a>'
        )


# --------------------------------------------------------------------------------------
# The view
# --------------------------------------------------------------------------------------


class FrequentRequestsView(SafeSpreadsheetExportMixin, ReportView):
    results_template_name = "wagtail_tickets/admin/reports/frequent_requests_results.html"
    page_title = _("Frequent requests")
    header_icon = "list-ol"
    index_url_name = f"{NAMESPACE}:frequent_requests"
    index_results_url_name = f"{NAMESPACE}:frequent_requests_results"
    filterset_class = FrequentRequestsFilterSet
    paginator_class = TopicPaginator
    table_class = InboxTable
    default_ordering = "-count"
    # Access is the desk's own rule (see dispatch), not a model permission.
    permission_policy = None
    verbose_name_plural = _("frequent requests")
    export_filename = "frequent-requests"
    list_export = [
        "topic",
        "topic_key",
        "department",
        "count",
        "last_resolved",
        "covering_title",
        "covering_url",
        "best_ticket_code",
    ]
    export_headings = {
        "topic": _("Topic (example subject)"),
        "topic_key": _("Topic key"),
        "department": _("Department"),
        "count": _("Tickets"),
        "last_resolved": _("Last resolved"),
        "covering_title": _("Covered by article"),
        "covering_url": _("Article edit link"),
        "best_ticket_code": _("Most detailed ticket"),
    }

    #: name -> the group columns it sorts by; ties go to the most recent, then the key.
    SORTS = {
        "count": ("count",),
        "last_resolved": ("last_resolved",),
        "department": ("wt_title_order",),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # A spreadsheet is opened outside the admin: its links must carry the host.
        absolute = {
            self.FORMAT_CSV: self.absolute_url,
            self.FORMAT_XLSX: self.absolute_url,
        }
        self.custom_field_preprocess = {
            **self.custom_field_preprocess,
            "covering_url": absolute,
        }

    def absolute_url(self, value):
        if not value:
            return ""
        # The admin's configured address; the request's own only on a site without one.
        base = get_admin_base_url()
        if base:
            return base.rstrip("/") + value
        return self.request.build_absolute_uri(value)

    def dispatch(self, request, *args, **kwargs):
        if not is_desk_user(request.user):
            # A real 403, as the inbox gives: the report is the desk's.
            return permission_denied(request, exception=None)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        days = self.options["days"]
        end = timezone.localdate()
        context["report_period"] = {"days": days, "start": end - timedelta(days=days), "end": end}
        return context

    def get_filename(self):
        return f"{self.export_filename}-{timezone.localdate():%Y-%m-%d}"

    @cached_property
    def options(self):
        """The filters' values, each falling back to its default when missing or invalid."""
        cleaned = {}
        if self.filters is not None:
            self.filters.is_valid()
            cleaned = getattr(self.filters.form, "cleaned_data", {})
        period = cleaned.get("period")
        department = cleaned.get("department")
        minimum = cleaned.get("minimum")
        return {
            "days": int(period) if period else DEFAULT_PERIOD,
            "department": int(department) if department else None,
            "minimum": minimum or DEFAULT_MINIMUM,
            "only_uncovered": bool(cleaned.get("uncovered")),
        }

    @cached_property
    def department_titles(self):
        """{id: title} of the departments the user sees, as the filters loaded them."""
        choices = self.filters.filters["department"].extra.get("choices", [])
        return {int(pk): title for pk, title in choices}

    @cached_property
    def scope(self):
        """The period, and the departments counted: the filter's, or all the user sees."""
        options = self.options
        user = self.request.user
        titles = self.department_titles
        department = options["department"]
        if department is not None and department not in titles:
            department = None  # not one of theirs: the default, as for any invalid value
        return Scope(
            Period.last_days(options["days"]),
            departments=None if sees_all_departments(user) else tuple(titles),
            department=department,
            known_departments=frozenset(titles),
        )

    @cached_property
    def status_ids(self):
        """Statuses of a resolved or closed kind now (a manager may change a kind)."""
        return status_ids(Status.ARCHIVED_KINDS)

    def get_queryset(self):
        options = self.options
        by_title = sorted(
            self.department_titles.items(), key=lambda item: (item[1].lower(), item[0])
        )
        groups = requests.topic_groups(
            self.scope,
            status_ids=self.status_ids,
            minimum=options["minimum"],
            exclude_keys=covered_keys() if options["only_uncovered"] else None,
            title_order={pk: n for n, (pk, _title) in enumerate(by_title)},
        )
        # Every group in one query, paginated here: a page needs them all sorted anyway,
        # and the paginator's COUNT would group the period's rollups a second time. Plain
        # rows: the page's dates are converted when its rows are built.
        ordered = self.order_queryset(groups)
        names = ("department", "subject_key", "count", "last_resolved")
        return [dict(zip(names, row, strict=True)) for row in raw_rows(ordered.values_list(*names))]

    def filter_queryset(self, queryset):
        # Already applied in get_queryset, partly before grouping.
        return queryset

    def get_valid_orderings(self):
        return [*self.SORTS, *(f"-{key}" for key in self.SORTS)]

    def order_queryset(self, queryset):
        ordering = self.ordering or self.default_ordering
        prefix = "-" if ordering.startswith("-") else ""
        fields = [f"{prefix}{field}" for field in self.SORTS[ordering.lstrip("-")]]
        return queryset.order_by(*fields, "-last_resolved", "subject_key", "department")

    @cached_property
    def may_add_articles(self):
        return can_create_articles(self.request.user)

    def get_table(self, object_list):
        return super().get_table(self.decorate_paginated_queryset(object_list))

    def decorate_paginated_queryset(self, object_list):
        # Called for the table and again by ReportView.get with the same list; the
        # rows are built once.
        cached = getattr(self, "_decorated", None)
        if cached is not None and cached[0] is object_list:
            return cached[1]
        # An export is one request too: it stops at EXPORT_MAX_ROWS groups.
        groups = list(object_list[:EXPORT_MAX_ROWS] if self.is_export else object_list)
        best, articles = {}, {}
        if groups:
            # A page asks about its own topics; an export (every group) about all of them.
            keys = None if self.is_export else {group["subject_key"] for group in groups}
            best = requests.best_tickets(
                self.scope,
                [(group["department"], group["subject_key"]) for group in groups],
                status_ids=self.status_ids,
            )
            articles = covering_articles(keys)
        for group in groups:
            group["department__title"] = self.department_titles.get(group["department"])
            group["last_resolved"] = as_datetime(group["last_resolved"])
        urls = {
            "ticket": url_maker(TICKET_URL_NAME),
            "article": url_maker(ARTICLE_EDIT_URL_NAME),
            "create_article": url_maker(CREATE_ARTICLE_URL_NAME),
            # Asked only when a row could show the action.
            "may_add_articles": lambda: self.may_add_articles,
        }
        rows = [
            FrequentRequest(
                group,
                best.get((group["department"], group["subject_key"])),
                articles.get(group["subject_key"]),
                urls,
            )
            for group in groups
        ]
        self._decorated = (object_list, rows)
        return rows

    @cached_property
    def columns(self):
        dates = HumanDates(timezone.now())
        return [
            TopicColumn("topic", label=_("Topic"), width="30%"),
            FastColumn("department", label=_("Department"), sort_key="department"),
            FastColumn("count", label=_("Tickets"), sort_key="count"),
            WhenColumn(
                "last_resolved", label=_("Last resolved"), sort_key="last_resolved", dates=dates
            ),
            CoveredColumn("covering_title", label=_("Covered by")),
            BestTicketColumn(
                "best_ticket_code",
                label=_("Most detailed ticket"),
                classname="w-whitespace-nowrap",
            ),
            ActionColumn(
                "create_article_url",
                label=_("Action"),
                classname="w-whitespace-nowrap",
            ),
        ]


# --------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------


class FrequentRequestsMenuItem(MenuItem):
    def is_shown(self, request):
        return is_desk_user(request.user)


@hooks.register("register_admin_urls")
def register_report_urls():
    urls = [
        path("frequent-requests/", FrequentRequestsView.as_view(), name="frequent_requests"),
        path(
            "frequent-requests/results/",
            FrequentRequestsView.as_view(results_only=True),
            name="frequent_requests_results",
        ),
    ]
    return [path("helpdesk/reports/", include((urls, NAMESPACE), namespace=NAMESPACE))]


@hooks.register(HELPDESK_MENU_HOOK)
def register_frequent_requests_menu_item():
    return FrequentRequestsMenuItem(
        _("Frequent requests"),
        reverse_lazy(f"{NAMESPACE}:frequent_requests"),
        name="helpdesk_frequent_requests",
        icon_name="list-ol",
        order=80,
    )
