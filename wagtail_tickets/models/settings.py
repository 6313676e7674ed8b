from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site

#: Seconds a site's Helpdesk settings are kept in Django's cache for the public pages.
SETTINGS_CACHE_SECONDS = 60


def _settings_cache_key(site_id):
    return f"wagtail_tickets:settings:{site_id}"


@register_setting(icon="help")
class HelpdeskSettings(BaseSiteSetting):
    class CaptchaMode(models.TextChoices):
        AUTO = "auto", _("reCAPTCHA when keys are configured, otherwise honeypot")
        RECAPTCHA = "recaptcha", _("reCAPTCHA")
        HONEYPOT = "honeypot", _("Honeypot and minimum fill time")
        NONE = "none", _("None")

    @classmethod
    def for_request(cls, request):
        """The site's settings, from Django's cache (then once per request).

        Every visitor's page reads them; saving them clears the cache (signal_handlers),
        so with a shared cache a change shows at once, with a per-process cache within
        SETTINGS_CACHE_SECONDS. The admin's settings editor reads the database
        (``for_site``).
        """
        attr_name = cls.get_cache_attr_name()
        if hasattr(request, attr_name):
            return getattr(request, attr_name)
        site = Site.find_for_request(request)
        if site is None:
            return super().for_request(request)
        site_settings = cls.cached(site.pk)
        if site_settings is None:
            site_settings = cls.for_site(site)
            cls.keep(site_settings)
        site_settings._request = request
        setattr(request, attr_name, site_settings)
        return site_settings

    @classmethod
    def cached(cls, site_id):
        """Site ``site_id``'s settings as Django's cache keeps them, or None."""
        return cache.get(_settings_cache_key(site_id))

    @classmethod
    def keep(cls, site_settings):
        cache.set(_settings_cache_key(site_settings.site_id), site_settings, SETTINGS_CACHE_SECONDS)

    @classmethod
    def forget_cached(cls, site_id):
        cache.delete(_settings_cache_key(site_id))

    captcha_mode = models.CharField(
        _("captcha"), max_length=10, choices=CaptchaMode.choices, default=CaptchaMode.AUTO
    )
    captcha_for_logged_in = models.BooleanField(_("captcha for logged-in users too"), default=False)
    min_fill_seconds = models.PositiveSmallIntegerField(
        _("minimum seconds to fill a form"),
        default=3,
        help_text=_("Anonymous forms sent faster than this are taken for robots."),
    )
    anonymous_tickets_per_hour = models.PositiveSmallIntegerField(
        _("anonymous tickets per IP address per hour"),
        default=10,
        validators=[MinValueValidator(1)],
    )
    tickets_per_user_per_hour = models.PositiveSmallIntegerField(
        _("tickets per logged-in customer per hour"),
        default=20,
        validators=[MinValueValidator(1)],
    )
    allowed_extensions = models.CharField(
        _("allowed file types"),
        max_length=255,
        default="jpg jpeg png gif webp pdf txt log csv zip docx xlsx odt ods",
        help_text=_("Extensions separated by spaces. HTML and SVG are never accepted."),
    )
    max_attachment_mb = models.PositiveSmallIntegerField(
        _("largest attachment (MB)"), default=10, validators=[MinValueValidator(1)]
    )
    max_attachments = models.PositiveSmallIntegerField(_("attachments per message"), default=5)
    notify_email = models.EmailField(
        _("staff notification address"),
        blank=True,
        help_text=_("Told about new tickets when a department has no staff members."),
    )
    # Paid support
    signup_enabled = models.BooleanField(
        _("customers may sign up"),
        default=False,
        help_text=_(
            "Offer the support centre's own sign-up form (e-mail address verified by a "
            "link). Leave off when your site has its own accounts."
        ),
    )
    welcome_pack = models.ForeignKey(
        "wagtail_tickets.IncidentPack",
        verbose_name=_("welcome pack"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Granted to each customer who signs up, once their address is verified."),
    )
    purchase_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("purchase page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Where customers buy incidents or top up their balance."),
    )
    purchase_url = models.URLField(
        _("purchase address"),
        blank=True,
        help_text=_("Or the address of an outside shop; the page above wins when both are set."),
    )
    low_incidents_threshold = models.PositiveSmallIntegerField(
        _("tell customers when incidents fall to"),
        default=1,
        help_text=_(
            "Customers are e-mailed when this many incidents are left, and again at none. "
            "0: only at none."
        ),
    )

    rating_change_days = models.PositiveSmallIntegerField(
        _("days to change a rating"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("How long after rating a reply a customer may still change the score."),
    )
    reopen_on_low_rating = models.BooleanField(
        _("reopen tickets rated 1 or 2"),
        default=False,
        help_text=_(
            "Reopen a resolved or closed ticket as soon as its customer rates a reply 1 or 2. "
            "Otherwise the customer is offered a button to reopen it. Either way the "
            "assignee, or the department's staff, is told."
        ),
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("captcha_mode"),
                FieldPanel("captcha_for_logged_in"),
                FieldPanel("min_fill_seconds"),
                FieldPanel("anonymous_tickets_per_hour"),
                FieldPanel("tickets_per_user_per_hour"),
            ],
            heading=_("Spam protection"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("allowed_extensions"),
                FieldPanel("max_attachment_mb"),
                FieldPanel("max_attachments"),
            ],
            heading=_("Attachments"),
        ),
        FieldPanel("notify_email"),
        MultiFieldPanel(
            [
                FieldPanel("signup_enabled"),
                FieldPanel("welcome_pack"),
                FieldPanel("purchase_page"),
                FieldPanel("purchase_url"),
                FieldPanel("low_incidents_threshold"),
            ],
            heading=_("Paid support"),
        ),
        MultiFieldPanel(
            [FieldPanel("rating_change_days"), FieldPanel("reopen_on_low_rating")],
            heading=_("Ratings"),
        ),
    ]

    class Meta:
        verbose_name = _("helpdesk settings")
        verbose_name_plural = _("helpdesk settings")

    def purchase_link(self):
        """The address where customers buy incidents or money, or ""."""
        if self.purchase_page_id:
            page = self.purchase_page
            if page is not None and page.live:
                return page.get_url() or ""
        return self.purchase_url
