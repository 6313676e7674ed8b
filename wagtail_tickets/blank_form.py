"""The fields of a department's blank form, rendered once and kept in the cache.

Opening a department's form is the support centre's commonest request, and rendering
its widgets through Django's templates is most of what the form itself costs. An
anonymous visitor's blank form is the same for everyone who shares its inputs, so the
HTML of its fields is kept under a key made of every one of them: each column of the
department's field rows, its attachment rules, the captcha mode, the language, the
knowledge-base link, and the templates and versions that render it. A change to any of
them makes a new key, so nothing has to be invalidated; old entries expire.

The signed start time of the honeypot (captcha.py) differs for every visitor, so it is
added outside the kept part. Forms with data (sent back with errors), a logged-in
visitor's form (filled in from the account) and reCAPTCHA's widget are always rendered
afresh. So is every form while ``DEBUG`` is on, where templates change under a running
server.
"""

import functools
import hashlib

import django
from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from . import __version__, captcha

FIELDS_TEMPLATE = "wagtail_tickets/includes/ticket_form_fields.html"
# Every template the fields' HTML comes from (besides Django's widget templates, which
# come with Django's version).
TEMPLATES = (
    FIELDS_TEMPLATE,
    "wagtail_tickets/includes/field.html",
    "wagtail_tickets/includes/kb_suggest.html",
)
TIMEOUT = 3600
CACHED_MODES = ("none", "honeypot")


def render_fields(form, kb_search_url, *, skip=()):
    """The form's fields as HTML (the loop of department_page.html)."""
    return render_to_string(
        FIELDS_TEMPLATE, {"form": form, "kb_search_url": kb_search_url, "skip": skip}
    )


def cacheable(user, captcha_mode):
    return not settings.DEBUG and not user.is_authenticated and captcha_mode in CACHED_MODES


def blank_fields_html(department, rows, rules, captcha_mode, kb_search_url, build):
    """The HTML of the blank form's fields for an anonymous visitor.

    ``rows`` are the department's field rows, ``rules`` its AttachmentRules, and
    ``build()`` makes the TicketForm from them when the cache has no entry yet.
    """
    key = _key(department, rows, rules, captcha_mode, kb_search_url)
    html = cache.get(key)
    if html is None:
        html = render_fields(build(), kb_search_url, skip=(captcha.STARTED_FIELD,))
        cache.set(key, html, TIMEOUT)
    if captcha_mode == "honeypot":
        # StartedField's own widget, with this visitor's own start time.
        html += captcha.StartedField.widget().render(
            captcha.STARTED_FIELD,
            captcha.signed_start(),
            attrs={"id": f"id_{captcha.STARTED_FIELD}"},
        )
    return mark_safe(html)


def _key(department, rows, rules, captcha_mode, kb_search_url):
    parts = (
        __version__,
        django.get_version(),
        _templates_digest(),
        get_language(),
        department.pk,
        captcha_mode,
        sorted(rules.extensions),
        rules.max_bytes,
        rules.max_count,
        kb_search_url,
        [[getattr(row, field.attname) for field in row._meta.concrete_fields] for row in rows],
    )
    return "wagtail_tickets:blank_form:" + hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.cache
def _templates_digest():
    digest = hashlib.sha256()
    for name in TEMPLATES:
        digest.update(get_template(name).template.source.encode())
    return digest.hexdigest()
