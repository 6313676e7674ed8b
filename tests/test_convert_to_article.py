"""workflow.convert_to_article: a resolved ticket becomes a scrubbed draft article."""

import json

import pytest
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.log_actions import registry as log_registry
from wagtail.models import PageLogEntry

from tests import factories
from wagtail_tickets import links, signals, workflow
from wagtail_tickets.admin.ticket import describe_entry
from wagtail_tickets.models import ArticlePage, Status, TicketLogEntry
from wagtail_tickets.workflow.knowledge import summarise, text_to_html

pytestmark = pytest.mark.django_db

SECRETS = ("Smithson", "alice.smith@example.org", "7946", "192.168.1.20", "asmith")


@pytest.fixture
def kb(helpdesk):
    return factories.make_kb(helpdesk, "Help articles")


@pytest.fixture
def person(db):
    return factories.make_user(
        "asmith", email="alice.smith@example.org", first_name="Alice", last_name="Smithson"
    )


@pytest.fixture
def story(department, person, agent, helpdesk):
    """A resolved ticket full of personal data, with every kind of message."""
    ticket, raw = workflow.open_ticket(
        department=department,
        subject="Alice Smithson cannot print from 192.168.1.20",
        body=(
            "Hello, I am Alice Smithson (alice.smith@example.org, +44 20 7946 0958). "
            "The printer shows error 404 since 2026-11-26.\n"
            "It worked with driver 1.2.3.\n\n"
            "<script>alert('x')</script> & <b>bold</b>"
        ),
        customer=person,
        customer_name="Alice Smithson",
        customer_email=person.email,
        attachments=[
            factories.validated("screen-asmith.png", factories.png_bytes(), "image/png"),
            factories.validated("manual.pdf", b"%PDF-1.4 manual\n", "application/pdf"),
        ],
    )
    factories.staff_reply(
        ticket,
        agent,
        "Hi Alice, please reinstall the driver from https://example.com/drivers?v=2&os=win.\n"
        f"You can follow it at {links.private_link_url(helpdesk, raw)}",
        files=[("steps.txt", b"1. open\n")],
    )
    factories.staff_reply(
        ticket,
        agent,
        "Customer is grumpy, NOTE-ONLY-FOR-STAFF",
        internal=True,
        files=[("internal.txt", b"secret\n")],
    )
    workflow.post_reply(
        ticket,
        body="Still broken, CUSTOMER-FOLLOW-UP. Call me: 555-123-4567",
        author=person,
        author_name="Alice Smithson",
        author_email=person.email,
    )
    workflow.post_reply(
        ticket,
        body=(
            "Then restart the print spooler.\n"
            f"Your link: {links.mail_link_url(ticket, helpdesk)}\n\n-- \nAnna, Devices"
        ),
        author=agent,
        by_staff=True,
    )
    factories.resolve(ticket, agent)
    return ticket


def attachments_of(ticket, **filters):
    from wagtail_tickets.models import Attachment

    return list(Attachment.objects.filter(message__ticket=ticket, **filters).order_by("pk"))


def body_json(page):
    return json.dumps(list(page.body.raw_data))


def test_draft_under_the_chosen_index(story, kb, superuser, department):
    page = workflow.convert_to_article(story, kb, user=superuser)
    page = ArticlePage.objects.get(pk=page.pk)
    assert not page.live
    assert page.has_unpublished_changes
    assert page.latest_revision is not None
    assert page.latest_revision.user == superuser
    assert page.get_parent().pk == kb.pk
    assert page.owner == superuser
    assert page.source_ticket == story
    assert page.department_id == department.pk
    assert list(story.articles.all()) == [page]
    # Wagtail's page history: created, then the first revision, as its own create view.
    actions = list(
        PageLogEntry.objects.filter(page=page).order_by("pk").values_list("action", flat=True)
    )
    assert actions[:2] == ["wagtail.create", "wagtail.edit"]


def test_no_personal_data_anywhere(client, story, kb, superuser):
    page = workflow.convert_to_article(story, kb, user=superuser)
    page = ArticlePage.objects.get(pk=page.pk)
    revision = json.dumps(page.latest_revision.content)
    client.force_login(superuser)
    preview = client.get(reverse("wagtailadmin_pages:view_draft", args=[page.pk]))
    assert preview.status_code == 200
    rendered = preview.content.decode()
    assert "reinstall the driver" in rendered
    texts = {
        "title": page.title,
        "summary": page.summary,
        "body": body_json(page),
        "revision": revision,
        "preview": rendered,
    }
    for where, text in texts.items():
        for secret in (*SECRETS, "Alice", "/access/"):
            assert secret.lower() not in text.lower(), (where, secret)
    assert page.title == "[name] cannot print from [IP address]"
    # What the article needs stays.
    assert "error 404 since 2026-11-26" in page.summary
    assert "driver 1.2.3" in body_json(page)


def test_problem_and_solution(story, kb, superuser):
    page = workflow.convert_to_article(story, kb, user=superuser)
    blocks = [(block.block_type, block.value) for block in page.body]
    kinds = [kind for kind, _value in blocks]
    assert kinds[:4] == ["heading", "text", "heading", "text"]
    assert blocks[0][1] == "Problem"
    assert blocks[2][1] == "Solution"
    problem = blocks[1][1].source
    assert problem.startswith("<p>Hello, I am [name] ([e-mail address], [phone number]). ")
    assert "since 2026-11-26.<br/>It worked with driver 1.2.3.</p><p>&lt;script" in problem
    solutions = [value.source for kind, value in blocks[3:] if kind == "text"]
    assert "reinstall the driver" in solutions[0]
    assert '<a href="https://example.com/drivers?v=2&amp;os=win">' in solutions[0]
    assert "You can follow it at [private link]</p>" in solutions[0]
    assert solutions[1].startswith("<p>Then restart the print spooler.<br/>Your link: [private")
    everything = body_json(page)
    assert "NOTE-ONLY-FOR-STAFF" not in everything
    assert "CUSTOMER-FOLLOW-UP" not in everything
    assert "Anna, Devices" not in everything  # the signature stays out


def test_html_in_messages_is_escaped(story, kb, superuser):
    page = workflow.convert_to_article(story, kb, user=superuser)
    problem = page.body[1].value.source
    assert "<script>" not in problem and "<b>" not in problem
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in problem
    )


def test_summary_is_the_first_sentences(story, kb, superuser):
    page = workflow.convert_to_article(story, kb, user=superuser)
    assert page.summary == (
        "Hello, I am [name] ([e-mail address], [phone number]). "
        "The printer shows error 404 since 2026-11-26. It worked with driver 1.2.3."
    )
    assert len(page.summary) <= 300


def test_summary_and_text_helpers():
    assert summarise("One. Two! " + "x" * 400) == "One. Two!"
    assert summarise("Hi,\n\nThe printer is on fire.\n\nMore later.") == (
        "Hi, The printer is on fire. More later."
    )
    long_first = "The printer in the office is on fire and smoking since the morning today."
    assert summarise(f"{long_first} Really.\n\nNext paragraph.") == f"{long_first} Really."
    long = "word " * 100
    assert len(summarise(long)) <= 300 and summarise(long).endswith("…")
    assert text_to_html("a\r\nb\n\n\n c <i>\n") == "<p>a<br/>b</p><p> c &lt;i&gt;</p>"
    assert text_to_html("see https://x.example/a?b=1&c=2).") == (
        '<p>see <a href="https://x.example/a?b=1&amp;c=2">https://x.example/a?b=1&amp;c=2</a>).</p>'
    )
    assert text_to_html('javascript:alert(1) "x"') == "<p>javascript:alert(1) &quot;x&quot;</p>"


def test_attachments_become_an_image_block_and_a_document_link(story, kb, superuser):
    first = attachments_of(story, message__is_staff_reply=False, message__is_internal=False)
    staff = attachments_of(story, message__is_staff_reply=True, message__is_internal=False)
    png = next(a for a in first if a.original_name.endswith(".png"))
    pdf = next(a for a in first if a.original_name.endswith(".pdf"))
    page = workflow.convert_to_article(story, kb, user=superuser, attachments=[png, pdf, *staff])

    image = get_image_model().objects.get()
    assert image.title == "screen-[name].png"
    assert (image.width, image.height) == (4, 4)
    # Private until the article is published (test_draft_article_files.py).
    assert image.collection.get_parent().is_root()
    assert image.uploaded_by_user == superuser
    documents = get_document_model().objects.order_by("pk")
    assert [d.title for d in documents] == ["manual.pdf", "steps.txt"]
    assert documents[0].file.read().startswith(b"%PDF-1.4")

    image_blocks = [block.value for block in page.body if block.block_type == "image"]
    assert [value["image"].pk for value in image_blocks] == [image.pk]
    links_text = body_json(page)
    for document in documents:
        assert f'<a linktype=\\"document\\" id=\\"{document.pk}\\">{document.title}</a>' in (
            links_text
        )
    assert "asmith" not in image.file.name


def test_only_chosen_attachments_are_copied(story, kb, superuser):
    workflow.convert_to_article(story, kb, user=superuser)
    assert not get_image_model().objects.exists()
    assert not get_document_model().objects.exists()


def test_refused_for_an_internal_notes_attachment(story, kb, superuser):
    internal = attachments_of(story, message__is_internal=True)
    public = attachments_of(story, message__is_internal=False)
    with pytest.raises(workflow.WorkflowError, match="public messages"):
        workflow.convert_to_article(story, kb, user=superuser, attachments=[public[0], *internal])
    assert not ArticlePage.objects.exists()
    assert not get_image_model().objects.exists()


def test_refused_for_another_tickets_attachment(story, kb, superuser, department):
    other = factories.open_ticket(
        department, attachments=[factories.validated("x.txt", b"x\n", "text/plain")]
    )
    foreign = attachments_of(other)
    with pytest.raises(workflow.WorkflowError):
        workflow.convert_to_article(story, kb, user=superuser, attachments=foreign)
    assert not ArticlePage.objects.exists()


@pytest.mark.parametrize("kind", [Status.Kind.NEW, Status.Kind.OPEN, Status.Kind.WAITING])
def test_refused_for_an_active_ticket(ticket, kb, superuser, kind):
    workflow.change_status(ticket, Status.first_of_kind(kind), user=superuser)
    with pytest.raises(workflow.WorkflowError, match="resolved or closed"):
        workflow.convert_to_article(ticket, kb, user=superuser)
    assert not ArticlePage.objects.exists()
    assert not TicketLogEntry.objects.filter(action="wagtail_tickets.ticket.article").exists()


def test_closed_ticket_converts(ticket, kb, superuser):
    workflow.close(ticket, user=superuser)
    page = workflow.convert_to_article(ticket, kb, user=superuser)
    assert page.title == "Printer is on fire"


def test_refused_where_the_user_may_not_add(story, kb, agent):
    with pytest.raises(workflow.WorkflowError, match="may not add articles"):
        workflow.convert_to_article(story, kb, user=agent)
    assert not ArticlePage.objects.exists()


def test_allowed_with_a_group_page_permission(story, kb, agent, helpdesk):
    category = factories.make_kb(kb, "Printers")
    factories.grant_add_page(agent, kb)
    page = workflow.convert_to_article(story, category, user=agent)
    assert page.get_parent().pk == category.pk
    assert page.latest_revision.user == agent


def test_permission_elsewhere_is_not_enough(story, kb, agent, helpdesk):
    elsewhere = factories.make_kb(helpdesk, "Other base")
    factories.grant_add_page(agent, elsewhere)
    with pytest.raises(workflow.WorkflowError):
        workflow.convert_to_article(story, kb, user=agent)


def test_refused_for_a_parent_that_is_not_a_knowledge_base(story, helpdesk, department, superuser):
    for parent in (helpdesk, department, helpdesk.get_parent()):
        with pytest.raises(workflow.WorkflowError, match="knowledge base"):
            workflow.convert_to_article(story, parent, user=superuser)
    assert not ArticlePage.objects.exists()


def test_audit_log_on_ticket_and_page(story, kb, superuser):
    page = workflow.convert_to_article(story, kb, user=superuser)
    on_ticket = TicketLogEntry.objects.get(action="wagtail_tickets.ticket.article")
    assert on_ticket.ticket_id == story.pk
    assert on_ticket.user == superuser
    assert on_ticket.data == {"page_id": page.pk, "title": page.title}
    assert str(log_registry.get_action_label(on_ticket.action)) == "Article drafted"
    assert describe_entry(on_ticket) == page.title
    on_page = PageLogEntry.objects.get(action="wagtail_tickets.article.from_ticket")
    assert on_page.page_id == page.pk
    assert on_page.data == {"ticket_id": story.pk, "code": story.code}
    assert on_page.user == superuser


def test_signal_after_commit(story, kb, superuser, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    signals.article_drafted.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page = workflow.convert_to_article(story, kb, user=superuser)
            assert received == []
    finally:
        signals.article_drafted.disconnect(listener)
    assert len(received) == 1
    assert received[0]["page"].pk == page.pk
    assert received[0]["ticket"].pk == story.pk
    assert received[0]["user"] == superuser


def test_ticket_without_an_account(anon_ticket, kb, superuser, agent):
    workflow.post_reply(
        anon_ticket,
        body="Hello Ann, try unplugging it. Mail ann@example.com works too.",
        author=agent,
        by_staff=True,
    )
    workflow.close(anon_ticket, user=agent)
    page = workflow.convert_to_article(anon_ticket, kb, user=superuser)
    everything = page.title + page.summary + body_json(page)
    assert "Onymous" not in everything and "ann@example.com" not in everything
    assert "Hello [name], try unplugging it." in everything


def test_without_staff_replies_the_solution_is_a_prompt(ticket, kb, superuser):
    workflow.close(ticket, user=superuser)
    page = workflow.convert_to_article(ticket, kb, user=superuser)
    assert [block.block_type for block in page.body] == ["heading", "text", "heading", "text"]
    assert "Describe the solution here." in page.body[3].value.source


def test_slugs_stay_unique(ticket, kb, superuser):
    workflow.close(ticket, user=superuser)
    first = workflow.convert_to_article(ticket, kb, user=superuser)
    second = workflow.convert_to_article(ticket, kb, user=superuser)
    assert first.slug == "printer-is-on-fire"
    assert second.slug == "printer-is-on-fire-2"
    assert ticket.articles.count() == 2
