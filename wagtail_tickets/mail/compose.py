"""What a notification says: its subject, text body and (optional) HTML body.

One road for every outgoing mail: ``compose(event, context, language)`` renders the
editors' ``NotificationTemplate`` for the event and language when there is one, else the
template files shipped in ``templates/wagtail_tickets/emails/``. ``Composed.message``
builds the EmailMessage (multipart/alternative when there is an HTML body); the
senders add their headers (``mail/headers.py``) and send it.

A stored template that no longer passes the checks (a placeholder an upgrade removed)
is not sent half-rendered: the shipped default goes out instead and a warning is logged;
the admin listing marks the template.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from . import events, placeholders

logger = logging.getLogger(__name__)

HTML_WRAPPER = "wagtail_tickets/emails/html_wrapper.html"


@dataclass
class Composed:
    subject: str
    text: str
    html: str | None = None
    #: The NotificationTemplate used, or None for the shipped files.
    template: object = None

    def message(self, from_email, to, *, reply_to=None, headers=None):
        kwargs = {"reply_to": reply_to, "headers": headers}
        if self.html:
            message = EmailMultiAlternatives(self.subject, self.text, from_email, to, **kwargs)
            message.attach_alternative(self.html, "text/html")
            return message
        return EmailMessage(self.subject, self.text, from_email, to, **kwargs)


def language_of(code):
    """The code of ``settings.LANGUAGES`` a mail in ``code`` is written in."""
    code = code or settings.LANGUAGE_CODE
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def stored(event_name, language):
    from ..models import NotificationTemplate

    return NotificationTemplate.objects.filter(event=event_name, language=language).first()


def compose(event_name, context, language):
    language = language_of(language)
    with translation.override(language):
        event = events.get(event_name)
        row = stored(event_name, language) if event is not None else None
        if row is not None:
            if not problems(event, row.subject, row.text_body, row.html_body):
                try:
                    return render_editable(
                        event, context, language, row.subject, row.text_body, row.html_body, row
                    )
                except Exception:
                    # A value that cannot be computed must not cost the mail.
                    logger.exception(
                        "Could not render the notification template %s (%s); "
                        "the shipped default was sent instead.",
                        event_name,
                        language,
                    )
                    return render_shipped(event_name, context)
            logger.warning(
                "The notification template %s (%s) does not pass its checks; "
                "the shipped default was sent instead.",
                event_name,
                language,
            )
        return render_shipped(event_name, context)


def render_text(name, context):
    """Render a plain-text mail template file without HTML escaping.

    The mails are text/plain: "Q&A" must arrive as "Q&A", not "Q&amp;A", and there is
    no markup for a value to break out of. Only ``.txt`` templates are rendered this
    way; HTML needs escaping and is refused here.
    """
    if not name.endswith(".txt"):
        raise ValueError(f"{name}: mail templates are plain text (.txt)")
    template = get_template(name)
    inner = getattr(template, "template", None)
    if inner is None:  # not a Django template engine: it escapes as it likes
        return template.render(context)
    return inner.render(Context(context, autoescape=False))


def render_shipped(event_name, context):
    """The shipped template files (call inside the mail's language)."""
    subject = render_text(f"wagtail_tickets/emails/{event_name}_subject.txt", context)
    body = render_text(f"wagtail_tickets/emails/{event_name}_body.txt", context)
    return Composed(" ".join(subject.split()), body)


def render_editable(event, context, language, subject, text_body, html_body="", row=None):
    """An editor's template (call inside the mail's language)."""
    values = event.values(context)
    subject = placeholders.render_line(subject, values)
    if not subject:
        subject = render_shipped(event.name, context).subject
    html = None
    if (html_body or "").strip():
        fragment = placeholders.render_html(html_body, values)
        html = render_to_string(
            HTML_WRAPPER,
            {"subject": subject, "language": language, "body": mark_safe(fragment)},  # noqa: S308 - sanitised by nh3
        )
    text = placeholders.render_text(text_body, values)
    return Composed(subject, text if text.endswith("\n") else text + "\n", html, row)


def problems(event, subject, text_body, html_body=""):
    """Whether an editor's template breaks a rule."""
    return bool(field_errors(event, subject, text_body, html_body))


def _braced(names):
    return ", ".join("{{ " + name + " }}" for name in names)


def _syntax_errors(found, event):
    errors = []
    if found.tags:
        errors.append(
            gettext(
                "Template tags and comments ({%% … %%}, {# … #}) are not available here: "
                "write the text as it should read, with placeholders such as {{ %(example)s }}."
            )
            % {"example": event.placeholders[0].name}
        )
    if found.not_names:
        errors.append(
            gettext(
                "Placeholders are names only, without dots, filters or expressions: "
                "%(offenders)s is not one."
            )
            % {"offenders": ", ".join(found.not_names)}
        )
    if found.unknown:
        errors.append(
            ngettext(
                "This mail has no placeholder %(names)s: see the list beside the fields.",
                "This mail has no placeholders %(names)s: see the list beside the fields.",
                len(found.unknown),
            )
            % {"names": _braced(found.unknown)}
        )
    if found.unbalanced:
        errors.append(gettext("A “{{” or “}}” does not belong to a placeholder."))
    return errors


def field_errors(event, subject, text_body, html_body=""):
    """{field name: [messages]} for what breaks a rule, in the active language."""
    allowed = set(event.by_name)
    found = {}
    for name, text in (("subject", subject), ("text_body", text_body), ("html_body", html_body)):
        text = text or ""
        errors = _syntax_errors(placeholders.Problems(text, allowed), event)
        used = set(placeholders.names_in(text))
        if name == "subject":
            if "\n" in text or "\r" in text:
                errors.append(gettext("The subject must be one line."))
            inline = [n for n in placeholders.names_in(text) if n in event.multiline_names]
            if inline:
                errors.append(
                    gettext("%(names)s can run over several lines and cannot be in the subject.")
                    % {"names": _braced(inline)}
                )
        elif name == "text_body" or text.strip():
            missing = [n for n in event.required_names if n not in used]
            if missing:
                errors.append(
                    gettext("This mail is of no use without %(names)s: put it in.")
                    % {"names": _braced(missing)}
                )
        if errors:
            found[name] = errors
    return found
