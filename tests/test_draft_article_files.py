"""Files copied into a draft article stay private until the article is published."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.test import RequestFactory
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection

from tests import factories
from tests.test_convert_to_article import attachments_of, kb, person, story  # noqa: F401
from wagtail_tickets import workflow
from wagtail_tickets.models import ArticlePage
from wagtail_tickets.workflow.knowledge import DRAFTS_COLLECTION

pytestmark = pytest.mark.django_db


def _may_view(collection, user):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return all(r.accept_request(request) for r in collection.get_view_restrictions())


@pytest.fixture
def drafted(story, kb, superuser):  # noqa: F811
    files = attachments_of(story, message__is_internal=False)
    page = workflow.convert_to_article(story, kb, user=superuser, attachments=files)
    return ArticlePage.objects.get(pk=page.pk)


def test_a_drafts_files_go_to_a_private_collection(drafted, customer):
    image = get_image_model().objects.get()
    documents = list(get_document_model().objects.all())
    assert documents
    for item in (image, *documents):
        assert item.collection.name == DRAFTS_COLLECTION
        assert item.collection.get_parent().is_root()
    collection = image.collection
    staff = factories.make_agent("reviewer")
    group = Group.objects.create(name="Article reviewers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    staff.groups.add(group)
    # Re-applying the restriction picks up groups that can open the admin.
    from wagtail_tickets.workflow.knowledge import drafts_collection

    drafts_collection(Collection.get_first_root_node())
    assert not _may_view(collection, AnonymousUser())
    assert not _may_view(collection, customer)
    assert _may_view(collection, type(staff).objects.get(pk=staff.pk))


def test_the_copies_have_unguessable_file_names(drafted):
    for item in (*get_image_model().objects.all(), *get_document_model().objects.all()):
        assert re.search(r"-[0-9a-f]{16}\.[a-z]+$", item.file.name), item.file.name


def test_publishing_the_article_releases_its_files(drafted, superuser):
    drafted.save_revision(user=superuser).publish()
    root = Collection.get_first_root_node()
    for item in (*get_image_model().objects.all(), *get_document_model().objects.all()):
        item.refresh_from_db()
        assert item.collection.pk == root.pk
        assert _may_view(item.collection, AnonymousUser())


def test_files_the_published_article_does_not_show_stay_private(drafted, superuser):
    image = get_image_model().objects.get()
    drafted.body = [block for block in drafted.body.raw_data if block["type"] != "image"]
    drafted.save_revision(user=superuser).publish()
    image.refresh_from_db()
    assert image.collection.name == DRAFTS_COLLECTION
    assert get_document_model().objects.exclude(collection=image.collection).exists()
