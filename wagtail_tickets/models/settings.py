from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="help")
class HelpdeskSettings(BaseSiteSetting):
    class CaptchaMode(models.TextChoices):
        AUTO = "auto", _("reCAPTCHA when keys are configured, otherwise honeypot")
        RECAPTCHA = "recaptcha", _("reCAPTCHA")
        HONEYPOT = "honeypot", _("Honeypot and minimum fill time")
        NONE = "none", _("None")

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
            [FieldPanel("rating_change_days"), FieldPanel("reopen_on_low_rating")],
            heading=_("Ratings"),
        ),
    ]

    class Meta:
        verbose_name = _("helpdesk settings")
        verbose_name_plural = _("helpdesk settings")
