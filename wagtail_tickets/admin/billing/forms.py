"""The managers' forms: each one action of the billing workflow."""

import secrets

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ...models import IncidentPack
from ...money import AmountField, max_amount

REASON_MAX = 500


REASON_LABEL = _("Reason")


def reason_field(required=True, label=REASON_LABEL):
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX,
        help_text=_("Kept in the ledger and shown in the customer's statement."),
        widget=forms.TextInput(attrs={"maxlength": REASON_MAX}),
    )


class ActionForm(forms.Form):
    """A form whose hidden token makes a repeated submission (a double click, the back
    button) a refused duplicate rather than a second action."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["token"].initial = secrets.token_urlsafe(24)

    def reference(self, kind):
        token = (self.cleaned_data.get("token") or "").strip()
        return f"admin:{kind}:{token}" if token else ""


class DepositForm(ActionForm):
    amount = AmountField(label=_("Amount"))
    reason = reason_field(required=False, label=_("Note"))


class AdjustForm(ActionForm):
    DIRECTIONS = (("credit", _("Add to the balance")), ("debit", _("Take from the balance")))

    direction = forms.ChoiceField(label=_("Direction"), choices=DIRECTIONS, initial="credit")
    amount = AmountField(label=_("Amount"))
    reason = reason_field()

    def signed_amount(self):
        amount = self.cleaned_data["amount"]
        return -amount if self.cleaned_data["direction"] == "debit" else amount


class GrantForm(ActionForm):
    pack = forms.ModelChoiceField(
        label=_("Pack"), queryset=IncidentPack.objects.none(), empty_label=_("Choose…")
    )
    reason = reason_field(required=False, label=_("Note"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pack"].queryset = IncidentPack.objects.filter(active=True).order_by("name")


class CreditLimitForm(ActionForm):
    credit_limit = forms.DecimalField(
        label=_("Credit limit"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("How far below zero per-request charges may take the balance."),
    )
    reason = reason_field(required=False, label=_("Note"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_limit"].max_value = max_amount()
        self.fields["credit_limit"].validators.append(MaxValueValidator(max_amount()))


class RefundForm(ActionForm):
    amount = AmountField(
        label=_("Amount"), required=False, help_text=_("Leave empty to refund all that is left.")
    )
    reason = reason_field()


class ReturnForm(ActionForm):
    reason = reason_field()


class ExtraChargeForm(ActionForm):
    amount = AmountField(label=_("Amount"))
    reason = reason_field(label=_("What for"))


class EndGrantForm(ActionForm):
    reason = reason_field()


class OpenAccountForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer"),
        max_length=254,
        help_text=_("The username or e-mail address of the customer's user account."),
    )

    def __init__(self, *args, **kwargs):
        # Wagtail's create view passes the model instance; the account is made by the
        # workflow instead.
        kwargs.pop("instance", None)
        kwargs.pop("for_user", None)
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_customer(self):
        value = self.cleaned_data["customer"].strip()
        User = get_user_model()
        matches = list(
            User.objects.filter(
                Q(**{f"{User.USERNAME_FIELD}__iexact": value}) | Q(email__iexact=value),
                is_active=True,
            )[:2]
        )
        if not matches:
            raise ValidationError(_("No active user has this username or e-mail address."))
        if len(matches) > 1:
            raise ValidationError(_("Several users have this address; type the username instead."))
        return matches[0]
