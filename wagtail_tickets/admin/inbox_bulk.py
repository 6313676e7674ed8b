"""Bulk actions of the inbox, through Wagtail's bulk action framework.

The inbox's checkbox column and footer lead to ``wagtail_bulk_action`` (app
``wagtail_tickets``, model ``ticket``) with the selected ids; each action shows a
confirmation with its form, then calls the workflow once per ticket. Only tickets in
``visible_tickets(user)`` are ever loaded: an id of a ticket the user may not see is
dropped (and counted), never acted on. Tickets the user may see but lacks the
permission for are listed as "no access", as elsewhere in Wagtail.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.views.bulk_action import BulkAction

from .. import workflow
from ..inputs import local_url, parse_id
from ..models import Priority, StaffMember, Status, Ticket
from ..permissions import admin_user_ids, visible_tickets
from .filters import person_name
from .inbox import can_use_inbox, forbidden, inbox_queryset

#: "Select all in listing" acts on at most this many tickets at once.
MAX_TICKETS = 500

ASSIGN_PERM = "wagtail_tickets.assign_ticket"
FIELDS_PERM = "wagtail_tickets.change_ticket_fields"


class TicketBulkAction(BulkAction):
    models = [Ticket]
    template_name = "wagtail_tickets/admin/inbox_bulk_confirm.html"
    #: A permission the user needs for every ticket, or None for any desk user.
    permission = None
    #: Text of the confirm button.
    confirm_label = _("Yes, go ahead")
    minimum = 1

    def __init__(self, request, model):
        super().__init__(request, model)
        # Wagtail takes any relative ``next``; redirect() cannot go to "'".
        self.next_url = local_url(request, self.next_url, request.path)

    def dispatch(self, request, *args, **kwargs):
        if not can_use_inbox(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["action"] = self
        return kwargs

    def requested_ids(self):
        return self.request.GET.getlist("id")

    @cached_property
    def _loaded(self):
        user = self.request.user
        requested = self.requested_ids()
        if "all" in requested:
            queryset = inbox_queryset(self.request, self.request.GET)
            ignored = 0
        else:
            ids = {parse_id(value) for value in requested} - {None}
            queryset = visible_tickets(user).filter(pk__in=ids)
            ignored = None  # known once loaded
        tickets = list(
            queryset.select_related("status", "priority", "department", "assignee").order_by("pk")[
                :MAX_TICKETS
            ]
        )
        if ignored is None:
            ignored = len(ids) - len(tickets)
        self.truncated = len(tickets) == MAX_TICKETS
        allowed = self.permission is None or user.has_perm(self.permission)
        with_access = tickets if allowed else []
        without_access = [] if allowed else tickets
        return with_access, without_access, ignored

    def get_actionable_objects(self):
        with_access, without_access, _ignored = self._loaded
        return with_access, {"items_with_no_access": without_access}

    def object_context(self, ticket):
        from .inbox import ticket_url

        return {"item": ticket, "url": ticket_url(ticket)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            action=self,
            ignored_count=self._loaded[2],
            too_few=len(context["items"]) < self.minimum,
            truncated=self.truncated,
            max_tickets=MAX_TICKETS,
            header_title=self.display_name,
        )
        return context

    def get_execution_context(self):
        return {"action": self}

    @classmethod
    def execute_action(cls, objects, action=None, **kwargs):
        done, unchanged, errors = 0, 0, []
        for ticket in objects:
            try:
                if action.apply(ticket):
                    done += 1
                else:
                    unchanged += 1
            except workflow.WorkflowError as error:
                errors.append((ticket, error))
        action.unchanged = unchanged
        action.errors = errors
        return done, 0

    def apply(self, ticket):
        raise NotImplementedError

    def form_valid(self, form):
        if len(self.get_actionable_objects()[0]) < self.minimum:
            form.add_error(None, self.too_few_message())
            return self.form_invalid(form)
        response = super().form_valid(form)
        self.report()
        return response

    def too_few_message(self):
        return _("Select at least one ticket you may change.")

    def report(self):
        if getattr(self, "unchanged", 0):
            messages.info(
                self.request,
                ngettext(
                    "%(count)d ticket needed no change.",
                    "%(count)d tickets needed no change.",
                    self.unchanged,
                )
                % {"count": self.unchanged},
            )
        for ticket, error in getattr(self, "errors", []):
            messages.error(
                self.request,
                _("%(code)s: %(error)s") % {"code": ticket.code, "error": error},
            )

    def check_perm(self, obj):
        return self.permission is None or self.request.user.has_perm(self.permission)

    #: ``ngettext_lazy(singular, plural, "count")``; ``success_values()`` fills the rest.
    success_message = None

    def success_values(self):
        return {}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return self.success_message % {"count": num_parent_objects, **self.success_values()}


# --------------------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------------------


class BulkForm(forms.Form):
    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action


def staff_users():
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=StaffMember.objects.values("user_id"),
        )
        .filter(pk__in=admin_user_ids())
        .order_by("first_name", "last_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj)


class AssignForm(BulkForm):
    assignee = PersonChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Nobody (unassign)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()


class StatusForm(BulkForm):
    status = forms.ModelChoiceField(label=_("New status"), queryset=Status.objects.all())


class PriorityForm(BulkForm):
    priority = forms.ModelChoiceField(label=_("New priority"), queryset=Priority.objects.all())


class MergeForm(BulkForm):
    target = forms.TypedChoiceField(label=_("Merge into"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tickets = self.action.get_actionable_objects()[0] if self.action else []
        self.fields["target"].choices = [(t.pk, f"{t.code} {t.subject}") for t in tickets]
        self.fields["target"].help_text = _(
            "The other tickets' messages move into this one; they are closed with a "
            "pointer to it and their customers are told."
        )


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


class ChangeBulkAction(TicketBulkAction):
    """Hands the value chosen in the form's ``field`` to one workflow call per ticket."""

    field = None

    @property
    def chosen(self):
        return self.cleaned_form.cleaned_data[self.field]

    def apply(self, ticket):
        return bool(self.change(ticket, self.chosen))

    def change(self, ticket, value):
        """The workflow call; a true result means the ticket changed."""
        raise NotImplementedError

    def success_values(self):
        return {self.field: self.chosen}


class AssignBulkAction(ChangeBulkAction):
    display_name = _("Assign")
    action_type = "assign"
    aria_label = _("Assign the selected tickets")
    action_priority = 10
    form_class = AssignForm
    field = "assignee"
    permission = ASSIGN_PERM
    confirm_label = _("Yes, assign")
    success_message = ngettext_lazy(
        "%(count)d ticket assigned to %(name)s.", "%(count)d tickets assigned to %(name)s.", "count"
    )

    def change(self, ticket, assignee):
        return workflow.assign(ticket, assignee, user=self.request.user)

    def success_values(self):
        return {"name": person_name(self.chosen)}

    def get_success_message(self, num_parent_objects, num_child_objects):
        if self.chosen is None:
            return ngettext(
                "%(count)d ticket unassigned.", "%(count)d tickets unassigned.", num_parent_objects
            ) % {"count": num_parent_objects}
        return super().get_success_message(num_parent_objects, num_child_objects)


class StatusBulkAction(ChangeBulkAction):
    display_name = _("Change status")
    action_type = "status"
    aria_label = _("Change the status of the selected tickets")
    action_priority = 20
    form_class = StatusForm
    field = "status"
    # Closing stays open to every agent (the Close action); any status is a field change.
    permission = FIELDS_PERM
    confirm_label = _("Yes, change the status")
    success_message = ngettext_lazy(
        "%(count)d ticket moved to %(status)s.", "%(count)d tickets moved to %(status)s.", "count"
    )

    def change(self, ticket, status):
        return workflow.change_status(ticket, status, user=self.request.user)


class PriorityBulkAction(ChangeBulkAction):
    display_name = _("Change priority")
    action_type = "priority"
    aria_label = _("Change the priority of the selected tickets")
    action_priority = 30
    form_class = PriorityForm
    field = "priority"
    permission = FIELDS_PERM
    confirm_label = _("Yes, change the priority")
    success_message = ngettext_lazy(
        "%(count)d ticket set to %(priority)s priority.",
        "%(count)d tickets set to %(priority)s priority.",
        "count",
    )

    def change(self, ticket, priority):
        return workflow.update_fields(ticket, user=self.request.user, priority=priority)


class CloseBulkAction(TicketBulkAction):
    display_name = _("Close")
    action_type = "close"
    aria_label = _("Close the selected tickets")
    action_priority = 40
    form_class = BulkForm
    confirm_label = _("Yes, close them")
    success_message = ngettext_lazy(
        "%(count)d ticket closed.", "%(count)d tickets closed.", "count"
    )

    def apply(self, ticket):
        if ticket.status.kind == Status.Kind.CLOSED:
            return False
        return workflow.close(ticket, user=self.request.user)


class MergeBulkAction(TicketBulkAction):
    display_name = _("Merge")
    action_type = "merge"
    aria_label = _("Merge the selected tickets into one")
    action_priority = 50
    form_class = MergeForm
    permission = FIELDS_PERM
    confirm_label = _("Yes, merge")
    minimum = 2
    classes = {"serious"}

    def too_few_message(self):
        return _("Select at least two tickets you may change to merge them.")

    @classmethod
    def execute_action(cls, objects, action=None, **kwargs):
        target_id = action.cleaned_form.cleaned_data["target"]
        target = next(t for t in objects if t.pk == target_id)
        sources = [t for t in objects if t.pk != target_id]
        action.unchanged, action.errors, action.moved = 0, [], 0
        try:
            action.moved = workflow.merge(target, sources, user=action.request.user)
        except workflow.WorkflowError as error:
            action.errors = [(target, error)]
            return 0, 0
        action.target = target
        return len(sources), action.moved

    def get_success_message(self, num_parent_objects, num_child_objects):
        if not num_parent_objects:
            return None
        return ngettext(
            "%(count)d ticket merged into %(code)s (%(messages)d messages moved).",
            "%(count)d tickets merged into %(code)s (%(messages)d messages moved).",
            num_parent_objects,
        ) % {
            "count": num_parent_objects,
            "code": self.target.code,
            "messages": num_child_objects,
        }


BULK_ACTIONS = [
    AssignBulkAction,
    StatusBulkAction,
    PriorityBulkAction,
    CloseBulkAction,
    MergeBulkAction,
]

for _action in BULK_ACTIONS:
    hooks.register("register_bulk_action", _action)
