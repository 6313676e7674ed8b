"""Forms of the ticket screen: reply, ticket fields, message edit, new ticket.

Choices come from lists the view has already loaded, so rendering a form never runs a
query of its own (a ModelChoiceField would query once per render).
"""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..attachments import AttachmentRules
from ..forms import MultipleFileField

MAX_MESSAGE = 20000
MAX_MINUTES = 100_000


def _person_label(user):
    name = user.get_full_name() or user.get_username()
    return f"{name} <{user.email}>" if user.email else name


class ObjectChoiceField(forms.TypedChoiceField):
    """A choice among objects already in memory; cleans to the object itself."""

    def __init__(self, *, objects=(), label_from=str, empty_label=None, **kwargs):
        self.objects = {str(obj.pk): obj for obj in objects}
        choices = [(str(obj.pk), label_from(obj)) for obj in objects]
        if empty_label is not None:
            choices.insert(0, ("", empty_label))
        kwargs.setdefault("coerce", lambda value: self.objects[value])
        kwargs.setdefault("empty_value", None)
        super().__init__(choices=choices, **kwargs)


class DeskReplyForm(forms.Form):
    AUTOMATIC = ""

    message = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=MAX_MESSAGE,
    )
    attachments = MultipleFileField(label=_("Attachments"))
    is_internal = forms.BooleanField(
        label=_("Internal note"),
        required=False,
        help_text=_("Only staff see internal notes; the customer is never told about them."),
    )
    append_signature = forms.BooleanField(
        label=_("Append my signature"), required=False, initial=True
    )
    time_spent = forms.IntegerField(
        label=_("Time spent (minutes)"),
        required=False,
        min_value=0,
        max_value=MAX_MINUTES,
        widget=forms.NumberInput(attrs={"step": 1, "min": 0}),
    )
    new_status = forms.TypedChoiceField(
        label=_("Status after sending"),
        required=False,
        help_text=_(
            "Automatic: a reply waits for the customer; a note leaves the status as it is."
        ),
    )

    def __init__(self, *args, rules, statuses, signature="", **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.statuses = {str(s.pk): s for s in statuses}
        self.fields["new_status"].choices = [(self.AUTOMATIC, _("Automatic"))] + [
            (str(s.pk), str(s)) for s in statuses
        ]
        self.fields["new_status"].coerce = lambda value: self.statuses[value]
        self.fields["new_status"].empty_value = None
        if not statuses:
            # Not the agent's to choose (see workflow.rules): replies take the automatic one.
            del self.fields["new_status"]
        self.signature = (signature or "").strip()
        if not self.signature:
            del self.fields["append_signature"]
        else:
            self.fields["append_signature"].help_text = _(
                "Added below public replies: %(signature)s"
            ) % {"signature": self.signature.splitlines()[0]}
        if rules.enabled:
            self.fields["attachments"].help_text = rules.describe()
            self.fields["attachments"].widget.attrs["accept"] = rules.accept
        else:
            del self.fields["attachments"]

    def clean_attachments(self):
        return self.rules.validate(self.cleaned_data.get("attachments") or [])

    def body(self):
        """The text to post: the signature goes below public replies when wanted."""
        text = self.cleaned_data["message"].rstrip()
        if (
            self.signature
            and self.cleaned_data.get("append_signature")
            and not self.cleaned_data.get("is_internal")
        ):
            text = f"{text}\n\n-- \n{self.signature}"
        return text


class TicketFieldsForm(forms.Form):
    """Subject, status, priority, department and assignee, as the agent may change them."""

    subject = forms.CharField(label=_("Subject"), max_length=255)
    status = ObjectChoiceField(label=_("Status"))
    priority = ObjectChoiceField(label=_("Priority"))
    department = ObjectChoiceField(
        label=_("Department"), help_text=_("The ticket keeps its code when it moves.")
    )
    assignee = ObjectChoiceField(label=_("Assignee"), required=False)

    def __init__(
        self,
        *args,
        ticket,
        statuses,
        priorities,
        departments,
        assignees,
        can_change_fields,
        can_assign,
        **kwargs,
    ):
        kwargs.setdefault(
            "initial",
            {
                "subject": ticket.subject,
                "status": str(ticket.status_id),
                "priority": str(ticket.priority_id),
                "department": str(ticket.department_id or ""),
                "assignee": str(ticket.assignee_id or ""),
            },
        )
        kwargs.setdefault("prefix", "fields")
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self._set_objects("status", statuses)
        self._set_objects("priority", priorities)
        self._set_objects("department", departments, label_from=lambda d: d.title)
        self._set_objects("assignee", assignees, label_from=_person_label, empty_label=_("Nobody"))
        if not can_change_fields:
            for name in ("subject", "status", "priority", "department"):
                del self.fields[name]
        if not can_assign:
            del self.fields["assignee"]

    def _set_objects(self, name, objects, label_from=str, empty_label=None):
        field = ObjectChoiceField(
            objects=objects,
            label_from=label_from,
            empty_label=empty_label,
            label=self.base_fields[name].label,
            required=self.base_fields[name].required,
            help_text=self.base_fields[name].help_text,
        )
        self.fields[name] = field

    def changed_values(self):
        """{field: new value} for the fields whose value differs from the ticket's."""
        data = self.cleaned_data
        ticket = self.ticket
        current = {
            "subject": ticket.subject,
            "status": ticket.status_id,
            "priority": ticket.priority_id,
            "department": ticket.department_id,
            "assignee": ticket.assignee_id,
        }
        changed = {}
        for name in self.fields:
            value = data.get(name)
            compare = value.pk if hasattr(value, "pk") else value
            if name == "subject":
                compare = (value or "").strip()
            if compare != current[name]:
                changed[name] = value
        return changed


class MessageEditForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}), max_length=MAX_MESSAGE
    )


class CreateTicketForm(forms.Form):
    """A ticket an agent opens for a customer: an existing account, or a name and address."""

    account = forms.CharField(
        label=_("Customer account"),
        required=False,
        max_length=254,
        help_text=_(
            "The username or e-mail address of an existing account. Leave empty and give "
            "a name and e-mail address for a customer without an account."
        ),
    )
    customer_name = forms.CharField(label=_("Customer name"), required=False, max_length=150)
    customer_email = forms.EmailField(label=_("Customer e-mail"), required=False)
    department = ObjectChoiceField(label=_("Department"))
    subject = forms.CharField(label=_("Subject"), max_length=255)
    message = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=MAX_MESSAGE
    )
    priority = ObjectChoiceField(label=_("Priority"), required=False)
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, departments, priorities, site_settings, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_settings = site_settings
        self.fields["department"] = ObjectChoiceField(
            objects=departments,
            label_from=lambda d: d.title,
            empty_label=_("Choose…"),
            label=_("Department"),
        )
        self.fields["priority"] = ObjectChoiceField(
            objects=priorities,
            empty_label=_("The department's default"),
            label=_("Priority"),
            required=False,
        )
        self.fields["attachments"].help_text = _("The department's rules for files apply.")
        # Keep the visual order: customer, then the ticket.
        order = [
            "account",
            "customer_name",
            "customer_email",
            "department",
            "priority",
            "subject",
            "message",
            "attachments",
        ]
        self.order_fields(order)

    def clean_account(self):
        value = (self.cleaned_data.get("account") or "").strip()
        if not value:
            return None
        User = get_user_model()
        username_field = User.USERNAME_FIELD
        matches = list(
            User.objects.filter(
                Q(**{f"{username_field}__iexact": value}) | Q(email__iexact=value),
                is_active=True,
            )[:2]
        )
        if not matches:
            raise ValidationError(_("No active account has this username or e-mail address."))
        if len(matches) > 1:
            raise ValidationError(
                _("Several accounts match; type the username instead of the address.")
            )
        return matches[0]

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account")
        if account is not None:
            if not account.email and not cleaned.get("customer_email"):
                self.add_error("customer_email", _("This account has no e-mail address; give one."))
        elif "account" not in self.errors:
            if not cleaned.get("customer_name"):
                self.add_error("customer_name", _("Give the customer's name, or pick an account."))
            if not cleaned.get("customer_email") and "customer_email" not in self.errors:
                self.add_error(
                    "customer_email", _("Give the customer's e-mail address, or pick an account.")
                )
        department = cleaned.get("department")
        if department is not None and self.site_settings is not None:
            rules = AttachmentRules.for_department(department, self.site_settings)
            try:
                cleaned["attachments"] = rules.validate(cleaned.get("attachments") or [])
            except ValidationError as error:
                self.add_error("attachments", error)
        else:
            cleaned["attachments"] = []
        return cleaned

    def customer(self):
        """(user or None, name, e-mail) of the ticket's customer."""
        data = self.cleaned_data
        account = data.get("account")
        if account is not None:
            name = account.get_full_name() or account.get_username()
            return account, name, account.email or data.get("customer_email")
        return None, data["customer_name"], data["customer_email"]
