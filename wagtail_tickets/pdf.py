"""PDF documents rendered with WeasyPrint from HTML templates.

WeasyPrint is imported when a PDF is made, so the rest of the package works on a
machine without its system libraries (Pango); making a PDF there raises
``PdfUnavailable``, which views answer with a 503 page that says what is missing.
"""

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Attachment, Message


class PdfUnavailable(RuntimeError):
    """WeasyPrint, or the Pango libraries it loads when imported, is not installed."""


def render_pdf(template, context, *, request=None, base_url=None):
    """Render a Django template to HTML and the HTML to PDF bytes."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:
        # OSError: WeasyPrint is installed but cannot load libpango (cffi's dlopen).
        raise PdfUnavailable(str(error)) from error

    html = render_to_string(template, context, request=request)
    return HTML(string=html, base_url=base_url).write_pdf()


def _custom_value(value):
    if isinstance(value, bool):
        return translation.gettext("Yes") if value else translation.gettext("No")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def ticket_transcript(ticket, *, include_notes=False, request=None, language=None):
    """The ticket's conversation as a PDF.

    The customer's copy holds only the public conversation; the staff copy
    (``include_notes``) adds the internal notes, each marked as such.
    """
    messages = Message.objects.filter(ticket=ticket)
    if not include_notes:
        messages = messages.filter(is_internal=False)
    messages = (
        messages.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    custom_fields = [
        {"label": item.get("label", ""), "value": _custom_value(item.get("value"))}
        for item in (ticket.custom_fields or [])
        if isinstance(item, dict)
    ]
    context = {
        "ticket": ticket,
        "conversation": list(messages),
        "custom_fields": custom_fields,
        "staff_copy": include_notes,
        "generated_at": timezone.now(),
    }
    with translation.override(language or translation.get_language()):
        return render_pdf("wagtail_tickets/pdf/ticket.html", context, request=request)
