import re

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.forms.models import FORM_FIELD_CHOICES, AbstractFormField
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField
from wagtail.models import Page

from .privacy import ViewRestrictionsInOneQuery

PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


class HelpdeskPage(ViewRestrictionsInOneQuery, RoutablePageMixin, Page):
    """The support centre: lists departments and serves the customer's routes."""

    intro = RichTextField(_("introduction"), blank=True)
    lookup_text = models.CharField(
        _("'find my ticket' text"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Shown above the form that e-mails a visitor the links to their tickets."),
    )
    tickets_per_page = models.PositiveSmallIntegerField(
        _("tickets per page"), default=20, help_text=_("In the customer's list of tickets.")
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("lookup_text"),
        FieldPanel("tickets_per_page"),
    ]

    subpage_types = ["wagtail_tickets.DepartmentPage", "wagtail_tickets.KnowledgeBaseIndexPage"]
    template = "wagtail_tickets/helpdesk_page.html"

    class Meta:
        verbose_name = _("support centre")
        verbose_name_plural = _("support centres")

    def route(self, request, path_components):
        """A department below is found with one query, its specific row joined.

        Wagtail's own routing reads the child page, then its specific row; every visit
        to a department form goes through here. The support centre's own routes (tickets,
        access, lookup) still come first, and any other child (a knowledge base) costs
        the same two queries as with Wagtail's routing.
        """
        if path_components and self.live:
            try:
                self.resolve_subpage("/" + "/".join(path_components) + "/")
            except Http404:
                child = (
                    Page.objects.child_of(self)
                    .filter(slug=path_components[0])
                    .select_related("departmentpage")
                    .first()
                )
                if child is None:
                    raise
                try:
                    specific = child.departmentpage
                except DepartmentPage.DoesNotExist:
                    specific = child.specific  # a knowledge base: as Wagtail does
                specific._cached_parent_obj = self
                return specific.route(request, path_components[1:])
        return super().route(request, path_components)

    def get_departments(self):
        return DepartmentPage.objects.child_of(self).live().public().order_by("path")

    # Routes only dispatch; the views live in views/portal.py.
    @path("")
    def index_route(self, request):
        from ..views import portal

        return portal.index(request, self)

    @path("tickets/")
    def ticket_list_route(self, request):
        from ..views import portal

        return portal.ticket_list(request, self)

    @re_path(r"^tickets/(?P<code>[A-Z0-9]{2,10}-[0-9]{1,18})/$")
    def ticket_route(self, request, code):
        from ..views import portal

        return portal.ticket_detail(request, self, code)

    @re_path(r"^tickets/(?P<code>[A-Z0-9]{2,10}-[0-9]{1,18})/files/(?P<pk>[0-9]{1,18})/$")
    def attachment_route(self, request, code, pk):
        from ..views import portal

        return portal.attachment_download(request, self, code, int(pk))

    @re_path(r"^access/(?P<token>[A-Za-z0-9_:-]{20,200})/$")
    def access_route(self, request, token):
        from ..views import portal

        return portal.access(request, self, token)

    @re_path(r"^rate/(?P<token>[A-Za-z0-9_-]{20,300})/$")
    def rate_route(self, request, token):
        from ..views import ratings

        return ratings.rate_link(request, self, token)

    @path("lookup/")
    def lookup_route(self, request):
        from ..views import portal

        return portal.lookup(request, self)

    # Paid support: the customer's account and the built-in sign-up.
    @path("account/")
    def account_route(self, request):
        from ..views import account

        return account.account(request, self)

    @path("account/statement/")
    def statement_route(self, request):
        from ..views import account

        return account.statement(request, self)

    @path("signup/")
    def signup_route(self, request):
        from ..views import signup

        return signup.signup(request, self)

    @path("signup/sent/")
    def signup_sent_route(self, request):
        from ..views import signup

        return signup.signup_sent(request, self)

    @re_path(r"^signup/verify/(?P<token>[A-Za-z0-9_-]{20,300})/$")
    def signup_verify_route(self, request, token):
        from ..views import signup

        return signup.verify(request, self, token)


class TicketFormField(AbstractFormField):
    INFO = "info"
    FIELD_TYPE_CHOICES = [c for c in FORM_FIELD_CHOICES if c[0] != "hidden"] + [
        (INFO, _("Information (text shown on the form)"))
    ]

    page = ParentalKey("DepartmentPage", on_delete=models.CASCADE, related_name="form_fields")
    field_type = models.CharField(
        verbose_name=_("field type"), max_length=16, choices=FIELD_TYPE_CHOICES
    )
    field_type.required_on_save = True
    info_text = RichTextField(
        _("information text"),
        blank=True,
        help_text=_("Only for the 'Information' type: shown on the form in place of a field."),
    )

    panels = AbstractFormField.panels + [FieldPanel("info_text")]

    class Meta(AbstractFormField.Meta):
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")

    def clean(self):
        super().clean()
        if self.field_type == self.INFO and not self.info_text:
            raise ValidationError({"info_text": _("An information block needs its text.")})


class DepartmentPage(ViewRestrictionsInOneQuery, RoutablePageMixin, Page):
    class Assignment(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Round-robin among available staff")
        LEAST_OPEN = "least_open", _("Staff member with the fewest open tickets")

    class Submitters(models.TextChoices):
        ANYONE = "anyone", _("Anyone, including anonymous visitors")
        LOGGED_IN = "logged_in", _("Logged-in users only")

    class SupportMode(models.TextChoices):
        FREE = "free", _("Free")
        PER_REQUEST = "per_request", _("Paid per request")
        PREPAID = "prepaid", _("Prepaid incident")

    intro = RichTextField(_("introduction"), blank=True)
    thank_you_text = RichTextField(
        _("thank-you text"), blank=True, help_text=_("Shown after a ticket has been filed.")
    )
    code_prefix = models.CharField(
        _("code prefix"),
        max_length=10,
        default="SUP",
        help_text=_(
            "Capital letters and digits starting with a letter, e.g. SUP: tickets get codes "
            "such as SUP-000042."
        ),
    )
    default_priority = models.ForeignKey(
        "wagtail_tickets.Priority",
        verbose_name=_("default priority"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignment_strategy = models.CharField(
        _("assignment"), max_length=16, choices=Assignment.choices, default=Assignment.MANUAL
    )
    submitters = models.CharField(
        _("who may submit"), max_length=16, choices=Submitters.choices, default=Submitters.ANYONE
    )
    support_mode = models.CharField(
        _("support mode"), max_length=16, choices=SupportMode.choices, default=SupportMode.FREE
    )
    price_per_request = models.DecimalField(
        _("price per request"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    allowed_extensions = models.CharField(
        _("allowed file types"),
        max_length=255,
        blank=True,
        help_text=_(
            "Extensions separated by spaces, e.g. 'pdf png jpg'. Empty: the site's default."
        ),
    )
    max_attachment_mb = models.PositiveSmallIntegerField(
        _("largest attachment (MB)"),
        null=True,
        blank=True,
        help_text=_("Empty: the site's default."),
    )
    max_attachments = models.PositiveSmallIntegerField(
        _("attachments per message"),
        null=True,
        blank=True,
        help_text=_("Empty: the site's default. 0 turns attachments off."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        InlinePanel("form_fields", label=_("Form fields")),
        FieldPanel("thank_you_text"),
    ]
    settings_panels = Page.settings_panels + [
        MultiFieldPanel(
            [
                FieldPanel("code_prefix"),
                FieldPanel("default_priority"),
                FieldPanel("assignment_strategy"),
                FieldPanel("submitters"),
            ],
            heading=_("Tickets"),
        ),
        MultiFieldPanel(
            [FieldPanel("support_mode"), FieldPanel("price_per_request")],
            heading=_("Paid support"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("allowed_extensions"),
                FieldPanel("max_attachment_mb"),
                FieldPanel("max_attachments"),
            ],
            heading=_("Attachments"),
        ),
    ]

    parent_page_types = ["wagtail_tickets.HelpdeskPage"]
    subpage_types = []
    template = "wagtail_tickets/department_page.html"

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def clean(self):
        super().clean()
        self.code_prefix = (self.code_prefix or "").strip().upper()
        if not PREFIX_RE.match(self.code_prefix):
            raise ValidationError(
                {"code_prefix": _("Use 2 to 10 capital letters or digits, starting with a letter.")}
            )
        if self.support_mode == self.SupportMode.PER_REQUEST and not self.price_per_request:
            raise ValidationError(
                {"price_per_request": _("Set the price for paid-per-request support.")}
            )

    @property
    def login_required(self):
        return self.submitters == self.Submitters.LOGGED_IN

    def get_helpdesk(self):
        return self.get_parent().specific

    @path("")
    def form_route(self, request):
        from ..views import department

        return department.form(request, self)

    @path("thanks/")
    def thanks_route(self, request):
        from ..views import department

        return department.thanks(request, self)

    @path("suggest/")
    def suggest_route(self, request):
        from ..views import suggestions

        return suggestions.suggest(request, self)
