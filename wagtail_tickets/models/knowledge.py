"""The knowledge base: categories, articles, readers' votes and suggestion figures."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from ..blocks import ArticleBodyBlock
from ..topics import topic_key
from .privacy import ViewRestrictionsInOneQuery


class KnowledgeBaseIndexPage(ViewRestrictionsInOneQuery, RoutablePageMixin, Page):
    """A knowledge base or one of its categories: lists articles and sub-categories."""

    intro = RichTextField(_("introduction"), blank=True)
    articles_per_page = models.PositiveSmallIntegerField(
        _("articles per page"), default=20, help_text=_("In the list and in search results.")
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("articles_per_page")]
    search_fields = Page.search_fields + [index.SearchField("intro")]

    subpage_types = ["wagtail_tickets.KnowledgeBaseIndexPage", "wagtail_tickets.ArticlePage"]
    template = "wagtail_tickets/kb/index_page.html"

    class Meta:
        verbose_name = _("knowledge base")
        verbose_name_plural = _("knowledge bases")

    @path("")
    def index_route(self, request):
        from ..views import knowledge

        return knowledge.index(request, self)

    @path("search/")
    def search_route(self, request):
        from ..views import knowledge

        return knowledge.search(request, self)


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "wagtail_tickets.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        verbose_name = _("article tag")
        verbose_name_plural = _("article tags")


class RelatedArticle(Orderable):
    page = ParentalKey(
        "wagtail_tickets.ArticlePage", on_delete=models.CASCADE, related_name="related_links"
    )
    article = models.ForeignKey(
        "wagtail_tickets.ArticlePage",
        verbose_name=_("article"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    panels = [PageChooserPanel("article", "wagtail_tickets.ArticlePage")]

    class Meta(Orderable.Meta):
        verbose_name = _("related article")
        verbose_name_plural = _("related articles")


class ArticlePage(ViewRestrictionsInOneQuery, RoutablePageMixin, Page):
    summary = models.TextField(
        _("summary"),
        max_length=500,
        blank=True,
        help_text=_("One or two sentences shown in lists, search results and suggestions."),
    )
    body = StreamField(ArticleBodyBlock(), verbose_name=_("body"), blank=True)
    tags = ClusterTaggableManager(verbose_name=_("tags"), through=ArticlePageTag, blank=True)
    department = models.ForeignKey(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("related department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        help_text=_("Readers who still need help are offered this department's form."),
    )
    source_ticket = models.ForeignKey(
        "wagtail_tickets.Ticket",
        verbose_name=_("source ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    updated = models.DateField(
        _("updated"),
        null=True,
        blank=True,
        help_text=_("Shown to readers. Empty: the date it was last published."),
    )
    # Derived from the title on every save, so the frequent-requests report can tell in
    # SQL which ticket topics an article already covers.
    topic_key = models.CharField(
        _("topic key"), max_length=120, blank=True, editable=False, db_index=True
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("tags"),
        InlinePanel("related_links", label=_("Related articles")),
    ]
    settings_panels = Page.settings_panels + [
        MultiFieldPanel(
            [
                FieldPanel("department"),
                FieldPanel("updated"),
                FieldPanel("source_ticket", read_only=True),
            ],
            heading=_("Helpdesk"),
        )
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary", boost=2),
        index.SearchField("body"),
        index.AutocompleteField("summary"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("department"),
    ]

    parent_page_types = ["wagtail_tickets.KnowledgeBaseIndexPage"]
    subpage_types = []
    template = "wagtail_tickets/kb/article_page.html"

    class Meta:
        verbose_name = _("knowledge-base article")
        verbose_name_plural = _("knowledge-base articles")

    def save(self, *args, **kwargs):
        self.topic_key = topic_key(self.title)
        return super().save(*args, **kwargs)

    @property
    def display_date(self):
        return self.updated or (self.last_published_at and self.last_published_at.date())

    @path("")
    def article_route(self, request):
        from ..views import knowledge

        return knowledge.article(request, self)

    @path("vote/")
    def vote_route(self, request):
        from ..views import knowledge

        return knowledge.vote(request, self)


class ArticleVote(models.Model):
    """A reader's "was this helpful?" answer; one per visitor (and per user) per article."""

    article = models.ForeignKey(
        ArticlePage, verbose_name=_("article"), on_delete=models.CASCADE, related_name="votes"
    )
    # sha256 of the visitor's random cookie, or of the user's id when logged in.
    voter = models.CharField(_("voter"), max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    helpful = models.BooleanField(_("helpful"))
    created_at = models.DateTimeField(_("voted"), default=timezone.now)
    # A keyed hash of the voter's IP address: votes per address and article are
    # limited (views.knowledge.vote) whatever cookie the voter sends.
    ip_hash = models.CharField(_("address hash"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [
            models.UniqueConstraint(fields=["article", "voter"], name="wt_vote_once_per_voter"),
            models.UniqueConstraint(
                fields=["article", "user"],
                condition=models.Q(user__isnull=False),
                name="wt_vote_once_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["article", "helpful"], name="wt_vote_article_helpful"),
            models.Index(fields=["article", "ip_hash", "created_at"], name="wt_vote_article_ip"),
        ]

    def __str__(self):
        return f"{self.article_id} · {'+' if self.helpful else '-'}"


class SuggestionStat(models.Model):
    """Per department and day: how often article suggestions were shown on the ticket form,
    how often a reader opened one, and how many of those visitors still filed a ticket."""

    department = models.ForeignKey(
        "wagtail_tickets.DepartmentPage",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField(_("day"))
    shown = models.PositiveIntegerField(_("forms with suggestions shown"), default=0)
    opened = models.PositiveIntegerField(_("suggestions opened"), default=0)
    filed = models.PositiveIntegerField(_("tickets filed after suggestions"), default=0)

    class Meta:
        verbose_name = _("suggestion figures")
        verbose_name_plural = _("suggestion figures")
        constraints = [
            models.UniqueConstraint(fields=["department", "day"], name="wt_suggest_dept_day")
        ]

    def __str__(self):
        return f"{self.department_id} {self.day}: {self.shown}/{self.filed}"
