"""Which of the inbox's optional columns an agent shows, kept in their desk profile.

The default leaves out "Created", so that the table fits a 1280-pixel screen with
Wagtail's sidebar open; an agent who shows more columns gets a table that scrolls
sideways. Code, subject and status are always shown.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from .menu import desk_profile

OPTIONAL_COLUMNS = (
    ("customer", _("Customer")),
    ("department", _("Department")),
    ("priority", _("Priority")),
    ("assignee", _("Assignee")),
    ("created_at", _("Created")),
    ("last_message_at", _("Last reply")),
    ("due_at", _("Due")),
)
NAMES = frozenset(name for name, _label in OPTIONAL_COLUMNS)
DEFAULT_SHOWN = frozenset(NAMES - {"created_at"})


def chosen_columns(user):
    """The optional columns ``user`` shows: their choice, else the default."""
    profile = desk_profile(user)
    choice = (profile.inbox_columns or {}) if profile is not None else {}
    shown = choice.get("shown") if isinstance(choice, dict) else None
    if not isinstance(shown, list):
        return DEFAULT_SHOWN
    return frozenset(name for name in shown if name in NAMES)


class ColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("Columns shown"),
        choices=OPTIONAL_COLUMNS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"columns": sorted(chosen_columns(user))})
        kwargs.setdefault("prefix", "wt-columns")
        super().__init__(*args, **kwargs)
        self.user = user

    def save(self):
        """Keep the choice in the user's desk profile; False when they have none."""
        profile = desk_profile(self.user)
        if profile is None:
            return False
        chosen = [name for name, _label in OPTIONAL_COLUMNS if name in self.cleaned_data["columns"]]
        profile.inbox_columns = {"shown": chosen}
        profile.save(update_fields=["inbox_columns"])
        return True
