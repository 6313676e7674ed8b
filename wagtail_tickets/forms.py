import datetime
import decimal

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.forms.forms import FormBuilder
from wagtail.rich_text import RichText

from . import captcha
from .attachments import AttachmentRules
from .models.ratings import SCORE_CHOICES

CUSTOM_PREFIX = "cf_"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; validation of the set happens in AttachmentRules."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class InfoWidget(forms.Widget):
    """Renders an editor's information block where a field would be."""

    def __init__(self, html, attrs=None):
        self.html = html
        super().__init__(attrs)

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('<div class="wt-info-block">{}</div>', RichText(self.html))

    def value_from_datadict(self, data, files, name):
        return None


class InfoField(forms.Field):
    is_info = True

    def __init__(self, html, **kwargs):
        kwargs.update(required=False, widget=InfoWidget(html))
        super().__init__(**kwargs)


class TicketFieldBuilder(FormBuilder):
    def create_info_field(self, field, options):
        return InfoField(field.info_text, label=field.label)

    def create_dropdown_field(self, field, options):
        # An explicit empty first choice, so a required dropdown is a real answer.
        options["choices"] = [("", _("Choose…"))] + self.get_formatted_field_choices(field)
        return forms.ChoiceField(**options)

    def create_date_field(self, field, options):
        options.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        return forms.DateField(**options)

    def create_datetime_field(self, field, options):
        options.setdefault(
            "widget", forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        )
        return forms.DateTimeField(**options)

    def get_field_options(self, field):
        options = super().get_field_options(field)
        if field.field_type == "info":
            return {}
        if field.required:
            options["error_messages"] = {
                "required": _("Please fill in “%(label)s”.") % {"label": field.label}
            }
        return options


def _stored_value(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


class DroppedFilesMixin:
    """Browsers cannot be given files back, so a form sent back with errors says, next
    to its file field (includes/field.html), that the files must be chosen again."""

    files_field = "attachments"

    @property
    def files_were_dropped(self):
        """True when a failed submission carried files the visitor must choose again."""
        return self.is_bound and bool(self.files.getlist(self.files_field)) and bool(self.errors)


class TicketForm(DroppedFilesMixin, forms.Form):
    """The department's submission form: fixed fields, its custom fields, captcha."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    subject = forms.CharField(label=_("Subject"), max_length=255)
    message = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=20000,
        help_text=_(
            "Describe one problem per ticket: what you did, what you expected, what happened."
        ),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(
        self,
        *args,
        department,
        site_settings,
        user,
        captcha_mode,
        form_fields=None,
        rules=None,
        **kwargs,
    ):
        """``form_fields`` (the department's field rows) and ``rules`` (its
        AttachmentRules) may be given when the caller has them already."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.department = department
        self.user = user
        self.rules = rules or AttachmentRules.for_department(department, site_settings)
        self.form_fields = (
            list(department.form_fields.all()) if form_fields is None else list(form_fields)
        )
        builder = TicketFieldBuilder(self.form_fields)
        self.custom_names = []
        for clean_name, field in builder.formfields.items():
            key = CUSTOM_PREFIX + clean_name
            self.fields[key] = field
            self.custom_names.append(key)
        # Attachments come after the custom fields, the captcha last.
        self.fields["attachments"] = self.fields.pop("attachments")
        if self.rules.enabled:
            self.fields["attachments"].help_text = self.rules.describe()
            self.fields["attachments"].widget.attrs["accept"] = self.rules.accept
        else:
            del self.fields["attachments"]
        if user.is_authenticated:
            # The account answers for who is writing; an account without an address
            # still has to give one.
            for key, value in (
                ("name", user.get_full_name() or user.get_username()),
                ("email", user.email),
            ):
                if value:
                    self.fields[key].initial = value
                    self.fields[key].disabled = True
        self.captcha_mode = captcha_mode
        captcha.add_captcha_fields(self, captcha_mode, site_settings.min_fill_seconds)
        for field in self.fields.values():
            if getattr(field, "is_info", False):
                continue
            if field.required:
                field.widget.attrs.setdefault("required", True)

    def clean_attachments(self):
        return self.rules.validate(self.cleaned_data.get("attachments") or [])

    def clean(self):
        cleaned = super().clean()
        if self.captcha_mode == "honeypot":
            captcha.clean_honeypot(self)
        return cleaned

    def refresh_start_token(self):
        """Give a bound form a new honeypot start time, after its old one was refused."""
        if captcha.STARTED_FIELD in self.fields and self.is_bound:
            data = self.data.copy()
            data[captcha.STARTED_FIELD] = captcha.signed_start()
            self.data = data

    def custom_field_values(self):
        """The custom answers with the labels the customer saw, in form order."""
        values = []
        for field in self.form_fields:
            if field.field_type == "info":
                continue
            key = CUSTOM_PREFIX + field.clean_name
            values.append(
                {
                    "name": field.clean_name,
                    "label": field.label,
                    "type": field.field_type,
                    "value": _stored_value(self.cleaned_data.get(key)),
                }
            )
        return values


class ReplyForm(DroppedFilesMixin, forms.Form):
    message = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        error_messages={"required": _("Please write your reply.")},
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, rules, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.rules = rules
        if rules.enabled:
            self.fields["attachments"].help_text = rules.describe()
            self.fields["attachments"].widget.attrs["accept"] = rules.accept
        else:
            del self.fields["attachments"]

    def clean_attachments(self):
        return self.rules.validate(self.cleaned_data.get("attachments") or [])


class LookupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We will e-mail you links to your open and recently closed tickets."),
    )


class RatingForm(forms.Form):
    """A customer's score of one staff reply and an optional comment."""

    SCORES = SCORE_CHOICES

    score = forms.TypedChoiceField(
        label=_("How helpful was this reply?"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a score from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was good, or what should we do better?"),
    )

    def clean_comment(self):
        return self.cleaned_data["comment"].replace("\x00", "").strip()
