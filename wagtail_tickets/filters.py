import django_filters
from django.utils.translation import gettext_lazy as _

from .inputs import IdChoiceMixin
from .models import DepartmentPage, Status, Ticket


class IdModelChoiceField(IdChoiceMixin, django_filters.fields.ModelChoiceField):
    pass


class IdModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = IdModelChoiceField


class CustomerTicketFilter(django_filters.FilterSet):
    """The customer's own list: open or archive, by status and department."""

    STATE_CHOICES = (("open", _("Open")), ("archive", _("Archive")))

    state = django_filters.ChoiceFilter(
        label=_("Show"), choices=STATE_CHOICES, method="filter_state", empty_label=_("All")
    )
    status = IdModelChoiceFilter(
        label=_("Status"), queryset=Status.objects.all(), empty_label=_("Any status")
    )
    department = IdModelChoiceFilter(
        label=_("Department"),
        queryset=DepartmentPage.objects.none(),
        empty_label=_("Any department"),
    )

    class Meta:
        model = Ticket
        fields = ["state", "status", "department"]

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.filters["department"].queryset = departments

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.active()
        if value == "archive":
            return queryset.archived()
        return queryset
