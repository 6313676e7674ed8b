"""The analytics screens' filters: the period, a department and an agent.

The filters only choose the scope (``analytics.scope.Scope``); the screens read the
cleaned values (``AnalyticsFilterSet.scope``). Invalid values fall back to the defaults,
so no query string gives an error page.
"""

from datetime import date, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, F, IntegerField, Value
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import AdminDateInput

from ...analytics.periods import Period, today
from ...analytics.scope import Scope
from ...models import Ticket
from ...permissions import sees_all_departments
from ..filters import visible_departments

PERIODS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
CUSTOM = "custom"
EARLIEST = date(2000, 1, 1)
LONGEST_DAYS = 3660
DEPARTMENT, AGENT = 1, 2


def load_choices(user):
    """(departments, agents): the departments ``user`` sees in tree order, and the staff
    (inactive ones too: their figures stay) by name, in one query (a UNION ALL). A user
    limited to some departments is offered the staff of those only."""
    from ...models import StaffMember

    columns = ("wt_tag", "wt_id", "wt_a", "wt_b", "wt_c")
    departments = visible_departments(user).annotate(
        wt_tag=Value(DEPARTMENT, IntegerField()),
        wt_id=F("pk"),
        wt_a=F("title"),
        wt_b=F("path"),
        wt_c=Value("", CharField()),
    )
    staff = StaffMember.objects.all()
    if not sees_all_departments(user):
        staff = staff.filter(departments__in=visible_departments(user).values("pk"))
    people = (
        get_user_model()
        .objects.filter(pk__in=staff.values("user_id"))
        .annotate(
            wt_tag=Value(AGENT, IntegerField()),
            wt_id=F("pk"),
            wt_a=F("first_name"),
            wt_b=F("last_name"),
            wt_c=F("username"),
        )
    )
    rows = (
        departments.order_by()
        .values_list(*columns)
        .union(people.order_by().values_list(*columns), all=True)
    )
    found = {DEPARTMENT: [], AGENT: []}
    for tag, pk, a, b, c in rows:
        if tag == DEPARTMENT:
            found[tag].append(((b, pk), (str(pk), a)))
        else:
            name = f"{a} {b}".strip() or c
            found[tag].append(((name.lower(), pk), (str(pk), name)))
    return [choice for _key, choice in sorted(found[DEPARTMENT])], [
        choice for _key, choice in sorted(found[AGENT])
    ]


class AnalyticsFilterSet(WagtailFilterSet):
    period = django_filters.ChoiceFilter(
        label=_("Period"),
        choices=[
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last 365 days")),
            (CUSTOM, _("From and to dates")),
        ],
        empty_label=None,
        initial=str(DEFAULT_DAYS),
        widget=forms.RadioSelect,
        method="keep",
    )
    start = django_filters.DateFilter(
        label=_("From"),
        widget=AdminDateInput,
        method="keep",
        help_text=_("With “From and to dates”: the first day, in the site's time zone."),
    )
    end = django_filters.DateFilter(
        label=_("To"), widget=AdminDateInput, method="keep", help_text=_("The last day.")
    )
    department = django_filters.ChoiceFilter(
        label=_("Department"), empty_label=_("All departments"), method="keep"
    )
    agent = django_filters.ChoiceFilter(
        label=_("Agent"), empty_label=_("All agents"), method="keep"
    )

    defaults = {"period": str(DEFAULT_DAYS)}

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, choices=None):
        if data is not None:
            data = data.copy()
            for name, value in self.defaults.items():
                if not data.get(name):
                    data[name] = value
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = request.user
        departments, agents = choices if choices is not None else load_choices(request.user)
        self.filters["department"].extra["choices"] = departments
        self.filters["agent"].extra["choices"] = agents
        self.department_titles = {int(pk): title for pk, title in departments}
        self.agent_names = {int(pk): name for pk, name in agents}

    def keep(self, queryset, name, value):
        return queryset

    def cleaned(self, name):
        """A filter's cleaned value; an invalid one counts as not given."""
        self.is_valid()
        return getattr(self.form, "cleaned_data", {}).get(name)

    @property
    def chosen_period(self):
        choice = self.cleaned("period") or str(DEFAULT_DAYS)
        if choice == CUSTOM:
            start, end = self.cleaned("start"), self.cleaned("end")
            last = today()
            if start and end:
                start, end = max(start, EARLIEST), min(end, last)
                if start <= end and (end - start).days < LONGEST_DAYS:
                    return Period(start, end)
            if start and not end and EARLIEST <= start <= last:
                return Period(start, min(last, start + timedelta(days=LONGEST_DAYS - 1)))
            return Period.last_days(DEFAULT_DAYS)
        return Period.last_days(int(choice))

    @property
    def scope(self):
        department = self.cleaned("department")
        agent = self.cleaned("agent")
        departments = None if sees_all_departments(self.user) else tuple(self.department_titles)
        return Scope(
            self.chosen_period,
            departments=departments,
            department=int(department) if department else None,
            agent=int(agent) if agent else None,
            known_departments=frozenset(self.department_titles),
        )


class RatingsFilterSet(AnalyticsFilterSet):
    UNHAPPY = "unhappy"
    score = django_filters.ChoiceFilter(
        label=_("Score"),
        choices=[
            *((str(n), str(n)) for n in (5, 4, 3, 2, 1)),
            (UNHAPPY, _("1 or 2 (unhappy)")),
        ],
        empty_label=_("Any score"),
        method="keep",
    )
