"""Turning a resolved ticket into a draft knowledge-base article."""

import os
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.html import escape
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.fields import WagtailImageField
from wagtail.log_actions import log
from wagtail.models import Collection, Page, PageSubscription
from wagtail.rich_text import RichText

from .. import signals
from ..models import Attachment, Message, Status
from ..models.knowledge import ArticlePage, KnowledgeBaseIndexPage
from ..scrub import URL_RE, scrubber
from .tickets import WorkflowError, _lock, _send_after_commit

SUMMARY_LENGTH = 300
SUMMARY_ENOUGH = 80
SLUG_LENGTH = 80
TITLE_LENGTH = 255
# The separator DeskReplyForm puts above an agent's signature; signatures stay out of
# articles.
SIGNATURE_RE = re.compile(r"(?:^|\n)-- ?\n")
SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+")
PARAGRAPH_RE = re.compile(r"\n[ \t]*\n+")


def check_convertible(ticket):
    """Raise WorkflowError unless the ticket is resolved or closed."""
    if ticket.status.kind not in Status.ARCHIVED_KINDS:
        raise WorkflowError(
            _("Only resolved or closed tickets can become articles; this ticket is %(status)s.")
            % {"status": ticket.status}
        )


def check_parent(parent, user):
    """Return the specific knowledge base ``user`` may add an article to, else raise."""
    specific = parent.specific if isinstance(parent, Page) else None
    if not isinstance(specific, KnowledgeBaseIndexPage):
        raise WorkflowError(_("Articles can only be created in a knowledge base."))
    if not (
        ArticlePage.can_create_at(specific)
        and specific.permissions_for_user(user).can_add_subpage()
    ):
        raise WorkflowError(
            _("You may not add articles to “%(title)s”.") % {"title": specific.title}
        )
    return specific


# --------------------------------------------------------------------------------------
# Text into rich text
# --------------------------------------------------------------------------------------


def _inline_html(line):
    """One line of plain text as escaped HTML, its web addresses as links."""
    parts, position = [], 0
    for match in URL_RE.finditer(line):
        url = match.group()
        if not url.lower().startswith(("http://", "https://")):
            continue
        trimmed = url.rstrip(".,;:!?)")
        parts.append(escape(line[position : match.start()]))
        parts.append(f'<a href="{escape(trimmed)}">{escape(trimmed)}</a>')
        position = match.start() + len(trimmed)
    parts.append(escape(line[position:]))
    return "".join(parts)


def text_to_html(text):
    """Plain text as rich-text HTML: blank lines make paragraphs, newlines <br/>.

    Built from escaped text only, so nothing in a message body is taken as markup.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = []
    for chunk in PARAGRAPH_RE.split(text):
        lines = [line.rstrip() for line in chunk.strip("\n").split("\n")]
        if any(lines):
            paragraphs.append("<p>" + "<br/>".join(_inline_html(line) for line in lines) + "</p>")
    return "".join(paragraphs)


def without_signature(body):
    return SIGNATURE_RE.split(body or "", maxsplit=1)[0].rstrip()


def summarise(text, limit=SUMMARY_LENGTH):
    """The first sentence(s) of ``text`` that fit in ``limit`` characters.

    Stops at the end of a paragraph once there is enough to read, so a short greeting
    on its own line does not make the whole summary.
    """
    summary = ""
    for paragraph in PARAGRAPH_RE.split((text or "").strip()):
        if len(summary) >= SUMMARY_ENOUGH:
            break
        for sentence in SENTENCE_END_RE.split(" ".join(paragraph.split())):
            candidate = f"{summary} {sentence}".strip()
            if len(candidate) > limit:
                return summary or Truncator(candidate).chars(limit)
            summary = candidate
    return summary


def unique_slug(parent, title):
    allow_unicode = getattr(settings, "WAGTAIL_ALLOW_UNICODE_SLUGS", True)
    base = slugify(title, allow_unicode=allow_unicode)[:SLUG_LENGTH].strip("-") or "article"
    taken = set(parent.get_children().filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


# --------------------------------------------------------------------------------------
# Attachments into Wagtail's images and documents
# --------------------------------------------------------------------------------------


def _read(attachment):
    with attachment.file.open("rb") as handle:
        return handle.read()


def _as_upload(name, content, content_type):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _is_image(attachment, content, name):
    """Whether Wagtail's image library takes the file (format, extension, size, pixels)."""
    if not (attachment.content_type or "").startswith("image/"):
        return False
    try:
        WagtailImageField().clean(_as_upload(name, content, attachment.content_type))
    except ValidationError:
        return False
    return True


def _collection(user, policy, error):
    """The root collection when ``user`` may add there, else their first one."""
    allowed = policy.collections_user_has_permission_for(user, "add").order_by("path")
    root = Collection.get_first_root_node()
    if root is not None and allowed.filter(pk=root.pk).exists():
        return root
    collection = allowed.first()
    if collection is None:
        raise WorkflowError(error)
    return collection


#: The private collection (one under each collection drafts copy into) holding the files
#: of draft articles until they are published. A fixed name, as it is looked up again.
DRAFTS_COLLECTION = "Helpdesk article drafts (private)"
DOCUMENT_LINK_RE = re.compile(r'<a\b[^>]*\blinktype="document"[^>]*\bid="(\d+)"')


def drafts_collection(parent):
    """The private collection under ``parent`` for draft articles' files.

    Created on demand with a view restriction to the groups that may open the admin,
    so Wagtail's document views serve them to staff only until the article is
    published (``release_article_files``). Wagtail serves image files from the media
    folder whatever the collection, so copies also get unguessable names.
    """
    from django.contrib.auth.models import Group
    from wagtail.models import CollectionViewRestriction

    collection = parent.get_children().filter(name=DRAFTS_COLLECTION).first()
    if collection is None:
        collection = parent.add_child(instance=Collection(name=DRAFTS_COLLECTION))
    restriction = CollectionViewRestriction.objects.filter(collection=collection).first()
    if restriction is None:
        restriction = CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.GROUPS
        )
    restriction.groups.set(Group.objects.filter(permissions__codename="access_admin"))
    return collection


def _private_name(name):
    base, ext = os.path.splitext(name)
    return f"{base[:80]}-{secrets.token_hex(8)}{ext}"


def release_article_files(page):
    """Move the files a published article shows out of the drafts' private collection.

    Called when an article is published: its images and linked documents that still
    sit in a drafts collection go to that collection's parent, where the rest of the
    library's readers can see them. Returns how many moved.
    """
    image_ids, document_ids = set(), set()
    for block in page.body:
        value = block.value
        if block.block_type == "image" and value.get("image") is not None:
            image_ids.add(value["image"].pk)
        # Rich text blocks, and the rich text inside callouts.
        rich = value.get("text") if block.block_type == "callout" else value
        source = getattr(rich, "source", None)
        if source:
            document_ids.update(int(pk) for pk in DOCUMENT_LINK_RE.findall(source))
    moved = 0
    for model, ids in ((get_image_model(), image_ids), (get_document_model(), document_ids)):
        if not ids:
            continue
        for item in model.objects.filter(pk__in=ids, collection__name=DRAFTS_COLLECTION):
            item.collection = item.collection.get_parent()
            item.save(update_fields=["collection"])
            moved += 1
    return moved


def _finish_image(image, name):
    image._set_image_file_metadata()


def _finish_document(document, name):
    # Images were validated by WagtailImageField before; a document is checked here,
    # against the library's own rules (e.g. WAGTAILDOCS_EXTENSIONS).
    try:
        document.full_clean()
    except ValidationError as error:
        raise WorkflowError(
            _("“%(name)s” cannot be added to the document library: %(reason)s")
            % {"name": name, "reason": " ".join(error.messages)}
        ) from error
    document._set_document_file_metadata()


def _copy_into_library(items, model, refusal, finish, user, created):
    """Store ``items`` as ``model`` objects (images or documents) in a collection
    ``user`` may add to; ``refusal`` is the error when there is none."""
    if not items:
        return []
    from wagtail.permissions import policy_registry

    # Checked against the collection the user may add to; kept in its private drafts
    # collection until the article is published.
    collection = drafts_collection(_collection(user, policy_registry.get_by_type(model), refusal))
    copies = []
    for attachment, content, name, _is in items:
        copy = model(
            title=name[:255],
            file=_as_upload(_private_name(name), content, attachment.content_type),
            collection=collection,
            uploaded_by_user=user,
        )
        finish(copy, name)
        copy.save()
        created.append(copy.file)
        copies.append(copy)
    return copies


def _copy_attachments(files, user, created):
    """Create Wagtail images and documents from ``files``; returns (images, documents).

    ``files`` are (attachment, content, scrubbed name, is image) tuples; every stored
    file is added to ``created`` so the caller can remove it if the conversion fails later.
    """
    images = _copy_into_library(
        [item for item in files if item[3]],
        get_image_model(),
        _("You may not add images to the image library."),
        _finish_image,
        user,
        created,
    )
    documents = _copy_into_library(
        [item for item in files if not item[3]],
        get_document_model(),
        _("You may not add documents to the document library."),
        _finish_document,
        user,
        created,
    )
    return images, documents


def _public_attachments(ticket, attachments):
    wanted = {getattr(item, "pk", item) for item in attachments}
    if not wanted:
        return []
    found = list(
        Attachment.objects.filter(
            pk__in=wanted, message__ticket=ticket, message__is_internal=False
        ).order_by("pk")
    )
    if len(found) != len(wanted):
        raise WorkflowError(
            _("Only files of the ticket's public messages can be copied into an article.")
        )
    return found


# --------------------------------------------------------------------------------------
# The conversion
# --------------------------------------------------------------------------------------


def _body(problem, solutions, documents, images):
    stream_block = ArticlePage.body.field.stream_block
    image_block = stream_block.child_blocks["image"]
    body = [("heading", _("Problem")), ("text", RichText(problem or "<p>—</p>"))]
    body.append(("heading", _("Solution")))
    if solutions:
        body += [("text", RichText(html)) for html in solutions]
    else:
        body.append(("text", RichText("<p>" + escape(_("Describe the solution here.")) + "</p>")))
    if documents:
        items = "".join(
            f'<li><a linktype="document" id="{document.pk}">{escape(document.title)}</a></li>'
            for document in documents
        )
        heading = escape(_("Files:"))
        body.append(("text", RichText(f"<p>{heading}</p><ul>{items}</ul>")))
    for image in images:
        body.append(("image", image_block.normalize({"image": image, "caption": ""})))
    return body


def _build(ticket, parent, user, attachments, created):
    locked = _lock(ticket)
    check_convertible(locked)
    files = _public_attachments(locked, attachments)
    conversation = list(
        Message.objects.filter(ticket=locked, is_internal=False).order_by("created_at", "pk")
    )
    first = conversation[0] if conversation else None
    replies = [message for message in conversation[1:] if message.is_staff_reply]
    customer_names = {message.author_name for message in conversation if not message.is_staff_reply}
    scrub = scrubber(ticket=locked, extra_names=sorted(n for n in customer_names if n))

    # The article speaks the customer's language, whatever the agent's admin uses;
    # refusals stay in the agent's.
    language = locked.language or translation.get_language()
    prepared = []
    for attachment in files:
        content = _read(attachment)
        base, ext = os.path.splitext(attachment.original_name)
        with translation.override(language):
            name = (scrub(base).strip() or _("file")) + ext
        prepared.append((attachment, content, name, _is_image(attachment, content, name)))
    images, documents = _copy_attachments(prepared, user, created)

    with translation.override(language):
        problem_text = scrub(first.body) if first else ""
        title = scrub(locked.subject).strip()[:TITLE_LENGTH] or locked.code
        page = ArticlePage(
            title=title,
            slug=unique_slug(parent, title),
            summary=summarise(problem_text),
            body=_body(
                text_to_html(problem_text),
                [
                    html
                    for html in (
                        text_to_html(scrub(without_signature(reply.body))) for reply in replies
                    )
                    if html
                ],
                documents,
                images,
            ),
            department_id=locked.department_id,
            source_ticket=locked,
            owner=user,
            live=False,
            locale_id=parent.locale_id,
        )
    # As Wagtail's own create view: a draft page, its first revision, both logged.
    parent.add_child(instance=page)
    try:
        page.save_revision(user=user, log_action=True)
    except ValidationError as error:
        raise WorkflowError(
            _("The article could not be saved: %(reason)s") % {"reason": " ".join(error.messages)}
        ) from error
    PageSubscription.objects.create(page=page, user=user, comment_notifications=True)
    log(
        page,
        "wagtail_tickets.article.from_ticket",
        user=user,
        data={"ticket_id": locked.pk, "code": locked.code},
    )
    log(
        ticket,
        "wagtail_tickets.ticket.article",
        user=user,
        data={"page_id": page.pk, "title": page.title},
    )
    _send_after_commit(signals.article_drafted, ticket=ticket, page=page, user=user)
    return page


def convert_to_article(ticket, parent, *, user, attachments=()):
    """Create a draft ArticlePage under ``parent`` from a resolved or closed ticket.

    The text is the customer's first message (problem) and the staff's public replies
    (solution), with personal data scrubbed; internal notes never go in. ``attachments``
    (files of public messages) are copied into Wagtail's image and document libraries.
    Returns the draft page.
    """
    parent = check_parent(parent, user)
    created = []
    try:
        with transaction.atomic():
            return _build(ticket, parent, user, attachments, created)
    except BaseException:
        # The database rolled back; the copied files would otherwise stay behind.
        for stored in created:
            stored.delete(save=False)
        raise
