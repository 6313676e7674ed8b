"""The desk's side of the knowledge base: drafting an article from a resolved ticket, and
finding articles to link while replying."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page
from wagtail.permissions import page_permission_policy, policy_registry

from .. import workflow
from ..kb_search import search_articles
from ..models import Attachment, Status
from ..models.knowledge import ArticlePage, KnowledgeBaseIndexPage
from ..workflow.knowledge import check_convertible
from .menu import is_desk_user
from .ticket import TicketSubpageMixin, url

KB_SEARCH_RESULTS = 10
KB_SEARCH_MAX_QUERY = 200
TRAIL_SEPARATOR = " › "


def addable_indexes(user):
    """The knowledge bases ``user`` may add articles under, in tree order.

    The same rule as ``parent.permissions_for_user(user).can_add_subpage()``: an "add"
    page permission of one of the user's groups on the page or an ancestor. The grants
    are the user's page permissions as Wagtail's permission policy keeps them for the
    request (read once, and read anyway by the admin's menus), so this adds one plain
    query on the page tree, or none for a user without an "add" grant.
    """
    queryset = KnowledgeBaseIndexPage.objects.order_by("path")
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if not (
        ArticlePage.is_creatable and ArticlePage in KnowledgeBaseIndexPage.allowed_subpage_models()
    ):
        return queryset.none()
    if user.is_superuser:
        return queryset
    # A grant on the page itself or an ancestor: the granted page's path is a prefix of
    # the knowledge base's path.
    granted = Q()
    for grant in page_permission_policy.get_cached_permissions_for_user(user):
        if grant.permission.codename == "add_page":
            granted |= Q(path__startswith=grant.page.path)
    if not granted:
        return queryset.none()
    return queryset.filter(granted)


def can_create_articles(user):
    """Whether ``user`` may add an article under some knowledge base; one query."""
    return addable_indexes(user).exists()


def labelled_indexes(user):
    """(knowledge base, "Home › Support › Knowledge base") pairs; two queries."""
    indexes = list(addable_indexes(user))
    steplen = Page.steplen
    # The home page only tells knowledge bases apart when they live under several.
    homes = {index.path[: 2 * steplen] for index in indexes}
    first = 2 * steplen if len(homes) > 1 else 3 * steplen
    ancestor_paths = {
        index.path[:end] for index in indexes for end in range(first, len(index.path), steplen)
    }
    titles = dict(
        Page.objects.filter(path__in=ancestor_paths).values_list("path", "title")
        if ancestor_paths
        else []
    )
    labelled = []
    for index in indexes:
        trail = [
            titles[index.path[:end]]
            for end in range(first, len(index.path), steplen)
            if index.path[:end] in titles
        ]
        labelled.append((index, TRAIL_SEPARATOR.join([*trail, index.title])))
    return labelled


def create_article_button(user, ticket):
    """The ticket screen's "Create article" button, or None.

    No query for tickets that are not resolved or closed, one for those that are.
    """
    if ticket.status.kind not in Status.ARCHIVED_KINDS or not can_create_articles(user):
        return None
    return HeaderButton(
        gettext("Create article"),
        url=url("create_article", ticket.pk),
        icon_name="doc-full",
        priority=40,
    )


class CreateArticleForm(forms.Form):
    parent = forms.TypedChoiceField(
        label=_("Knowledge base"),
        coerce=int,
        help_text=_("The article is created as a draft in this knowledge base or category."),
    )
    attachments = forms.TypedMultipleChoiceField(
        label=_("Copy these files into the article"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Images are added to the image library and shown in the article; other files "
            "are added to the document library and linked. Check them for personal data."
        ),
    )

    def __init__(self, *args, indexes, attachments, **kwargs):
        super().__init__(*args, **kwargs)
        self.indexes = {index.pk: index for index, _label in indexes}
        self.fields["parent"].choices = [(index.pk, label) for index, label in indexes]
        if len(indexes) == 1:
            self.fields["parent"].initial = indexes[0][0].pk
        self.files_by_pk = {attachment.pk: attachment for attachment in attachments}
        if attachments:
            self.fields["attachments"].choices = [
                (a.pk, f"{a.original_name} ({filesizeformat(a.size)})") for a in attachments
            ]
        else:
            del self.fields["attachments"]

    def chosen_parent(self):
        return self.indexes[self.cleaned_data["parent"]]

    def chosen_attachments(self):
        return [self.files_by_pk[pk] for pk in self.cleaned_data.get("attachments") or []]


class CreateArticleView(TicketSubpageMixin, WagtailAdminTemplateMixin, TemplateView):
    """Ask for the knowledge base and the files, then draft the article."""

    template_name = "wagtail_tickets/admin/ticket_article_create.html"
    page_title = _("Create article")
    header_icon = "doc-full"

    def dispatch(self, request, *args, **kwargs):
        if not is_desk_user(request.user):
            raise PermissionDenied
        self.indexes = labelled_indexes(request.user)
        if not self.indexes:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def public_attachments(self):
        """The files of public messages the user may copy into Wagtail's libraries.

        Images go to the image library and anything else to the documents, so each kind
        is offered only to users who may add to that library.
        """
        user = self.request.user
        may_add_images = policy_registry.get_by_type(get_image_model()).user_has_permission(
            user, "add"
        )
        may_add_documents = policy_registry.get_by_type(get_document_model()).user_has_permission(
            user, "add"
        )
        if not (may_add_images or may_add_documents):
            return []
        attachments = (
            Attachment.objects.filter(message__ticket=self.ticket, message__is_internal=False)
            .order_by("pk")
            .only("pk", "original_name", "size", "content_type")
        )
        return [
            attachment
            for attachment in attachments
            if (
                may_add_images
                if attachment.content_type.startswith("image/")
                else may_add_documents
            )
        ]

    def get_form(self, data=None):
        return CreateArticleForm(data, indexes=self.indexes, attachments=self.public_attachments())

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            check_convertible(self.ticket)
            problem = None
        except workflow.WorkflowError as error:
            problem = str(error)
        context.update(
            ticket=self.ticket,
            form=form or self.get_form(),
            problem=problem,
            ticket_url=self.ticket_url(),
            articles=list(self.ticket.articles.order_by("pk")),
        )
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                page = workflow.convert_to_article(
                    self.ticket,
                    form.chosen_parent(),
                    user=request.user,
                    attachments=form.chosen_attachments(),
                )
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    gettext(
                        "Draft article “%(title)s” created from %(code)s with personal data "
                        "replaced. Review it before publishing."
                    )
                    % {"title": page.title, "code": self.ticket.code},
                )
                return redirect(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        messages.validation_error(request, gettext("The article could not be created."), form)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class KnowledgeSearchView(View):
    """Published articles for the reply form's knowledge-base search, as JSON."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        if not is_desk_user(request.user):
            raise PermissionDenied
        query = " ".join(request.GET.get("q", "").split())[:KB_SEARCH_MAX_QUERY]
        results = []
        if query:
            for page in search_articles(query)[:KB_SEARCH_RESULTS]:
                # Inserted into replies that are mailed: the Site record's address.
                results.append({"title": page.title, "url": page.get_full_url()})
        response = JsonResponse({"results": results})
        response["Cache-Control"] = "private, no-store"
        return response
