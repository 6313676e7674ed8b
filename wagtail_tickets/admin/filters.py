"""The inbox's filters sidebar.

Every choice list is built with one query per request (statuses, priorities, the user's
departments, the staff) and validated against that list, so giving a filter never adds
a query: the inbox's query count stays the same whatever is filtered.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from ..models import DepartmentPage, Priority, Rating, StaffMember, Star, Status, Ticket
from ..models.ratings import UNHAPPY_SCORES
from ..models.tickets import cached_rows
from ..permissions import sees_all_departments, staff_department_ids
from .menu import queue_filter

ME = "me"
UNASSIGNED = "unassigned"
#: Mine or unassigned in my departments: what the menu's count counts.
QUEUE = "queue"
OPEN = "open"
CLOSED = "closed"


def person_name(user):
    return user.get_full_name() or user.get_username()


def visible_departments(user):
    """The departments whose tickets ``user`` sees in the desk."""
    queryset = DepartmentPage.objects.order_by("path")
    if sees_all_departments(user):
        return queryset
    return queryset.filter(pk__in=staff_department_ids(user))


STATUS, PRIORITY, DEPARTMENT, STAFF = 1, 2, 3, 4


def load_choices(user):
    """The four choice lists of the filters.

    Statuses and priorities in the managers' order (from the cached rows); the
    departments ``user`` sees in tree order and the other active staff members by name,
    in one query (a UNION ALL).
    """
    from django.db.models import CharField, IntegerField, Value

    def columns(tag, ident, a, b="", c=""):
        def expr(value, field):
            return value if hasattr(value, "resolve_expression") else Value(value, field)

        return {
            "wt_tag": Value(tag, IntegerField()),
            "wt_id": F(ident),
            "wt_a": expr(a, CharField()),
            "wt_b": expr(b, CharField()),
            "wt_c": expr(c, CharField()),
        }

    names = ["wt_tag", "wt_id", "wt_a", "wt_b", "wt_c"]
    departments = visible_departments(user).annotate(
        **columns(DEPARTMENT, "pk", F("title"), F("path"))
    )
    staff = (
        get_user_model()
        .objects.filter(pk__in=StaffMember.objects.filter(user__is_active=True).values("user_id"))
        .exclude(pk=user.pk)
        .annotate(**columns(STAFF, "pk", F("first_name"), F("last_name"), F("username")))
    )
    rows = (
        departments.order_by()
        .values_list(*names)
        .union(staff.order_by().values_list(*names), all=True)
    )
    lists = {DEPARTMENT: [], STAFF: []}
    for tag, ident, a, b, c in rows:
        if tag == DEPARTMENT:
            lists[tag].append(((b, ident), (str(ident), a)))
        else:
            full = f"{a} {b}".strip() or c
            lists[tag].append(((full.lower(), ident), (str(ident), full)))
    choices = {tag: [choice for _key, choice in sorted(items)] for tag, items in lists.items()}
    for tag, model in ((STATUS, Status), (PRIORITY, Priority)):
        # Seeded names are English msgids (see TranslatedNameMixin).
        choices[tag] = [
            (str(row.pk), gettext(row.name) if row.name else "") for row in cached_rows(model)
        ]
    return choices


class CheckboxFilter(django_filters.Filter):
    """An on/off filter: a plain checkbox, inactive (no pill, not "filtering") when off."""

    field_class = forms.BooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxInput)
        super().__init__(*args, **kwargs)


class IdChoiceFilter(django_filters.ChoiceFilter):
    """Filter a foreign key by id against choices given when the filterset is built."""

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{f"{self.field_name}_id": int(value)})


class InboxFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=((OPEN, _("Open")), (CLOSED, _("Resolved or closed"))),
        method="filter_state",
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )
    status = IdChoiceFilter(label=_("Status"), field_name="status", empty_label=_("Any status"))
    priority = IdChoiceFilter(
        label=_("Priority"), field_name="priority", empty_label=_("Any priority")
    )
    department = IdChoiceFilter(
        label=_("Department"), field_name="department", empty_label=_("Any department")
    )
    assignee = django_filters.ChoiceFilter(
        label=_("Assignee"), method="filter_assignee", empty_label=_("Anyone")
    )
    customer = django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        help_text=_("Part of the customer's name or e-mail address, or their username."),
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Created"), field_name="created_at", widget=DateRangePickerWidget
    )
    last_reply = django_filters.DateFromToRangeFilter(
        label=_("Last reply"), field_name="last_message_at", widget=DateRangePickerWidget
    )
    overdue = CheckboxFilter(label=_("Overdue only"), method="filter_overdue")
    starred = CheckboxFilter(label=_("Starred by me only"), method="filter_starred")
    unhappy = CheckboxFilter(
        label=_("Rated 1 or 2 only"),
        method="filter_unhappy",
        help_text=_("Tickets with a reply their customer rated 1 or 2."),
    )

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = request.user
        self.user = user
        choices = load_choices(user)
        self.filters["status"].extra["choices"] = choices[STATUS]
        self.filters["priority"].extra["choices"] = choices[PRIORITY]
        self.filters["department"].extra["choices"] = choices[DEPARTMENT]
        self.filters["assignee"].extra["choices"] = [
            (QUEUE, _("Me or unassigned")),
            (ME, _("Me")),
            (UNASSIGNED, _("Unassigned")),
            *choices[STAFF],
        ]

    def filter_state(self, queryset, name, value):
        if value == OPEN:
            return queryset.active()
        if value == CLOSED:
            return queryset.archived()
        return queryset

    def filter_assignee(self, queryset, name, value):
        if value == QUEUE:
            return queryset.filter(queue_filter(self.user))
        if value == ME:
            return queryset.filter(assignee=self.user)
        if value == UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        if value:
            return queryset.filter(assignee_id=int(value))
        return queryset

    def filter_customer(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer_email__icontains=value)
            | Q(customer_name__icontains=value)
            | Q(customer__username__iexact=value)
        )

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.active().filter(due_at__lt=timezone.now())

    def filter_starred(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(pk__in=Star.objects.filter(user=self.user).values("ticket_id"))

    def filter_unhappy(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            pk__in=Rating.objects.filter(score__in=UNHAPPY_SCORES).values("ticket_id")
        )
