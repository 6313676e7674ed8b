from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_tickets.models import HelpdeskPage


class HomePage(Page):
    """The site's front page; it points visitors at the support centre."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    # One front page at the top of the tree; everything else lives below it.
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["support_page"] = (
            HelpdeskPage.objects.descendant_of(self).live().public().order_by("path").first()
        )
        return context
