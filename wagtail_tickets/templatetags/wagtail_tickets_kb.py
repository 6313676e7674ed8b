"""Template filters of the knowledge-base pages: plain-text excerpts and highlighted terms."""

import html
import re

from django import template
from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe

register = template.Library()

MAX_TERMS = 10
EXCERPT_LENGTH = 200
# How much text to keep before the first match, so the reader sees it in context.
LEAD_IN = 60

WORD_RE = re.compile(r"\w+")
SPACE_RE = re.compile(r"\s+")


def query_terms(query):
    """The distinct words of a search query worth highlighting, longest first."""
    seen = {}
    for word in WORD_RE.findall(str(query or "")):
        # One letter would light up half the text.
        if len(word) >= 2:
            seen.setdefault(word.casefold(), word)
        if len(seen) >= MAX_TERMS:
            break
    return sorted(seen.values(), key=len, reverse=True)


def _terms_re(query):
    terms = query_terms(query)
    if not terms:
        return None
    # Word starts only, so "print" marks "printer" but not "blueprint".
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + ")", re.IGNORECASE)


def _rich_text_to_plain(value):
    return html.unescape(strip_tags(value or ""))


def body_text(article):
    """The words of an article's body as plain text, read from the stored JSON so that
    no image or linked page is loaded for it."""
    parts = []
    for block in article.body.raw_data:
        kind, value = block.get("type"), block.get("value")
        if kind == "heading":
            parts.append(value or "")
        elif kind == "text":
            parts.append(_rich_text_to_plain(value))
        elif kind == "callout":
            parts.append(_rich_text_to_plain((value or {}).get("text")))
        elif kind == "code":
            parts.append((value or {}).get("code") or "")
        elif kind == "image":
            parts.append((value or {}).get("caption") or "")
    return SPACE_RE.sub(" ", " ".join(parts)).strip()


@register.filter
def kb_excerpt(article, query=""):
    """About EXCERPT_LENGTH characters of the article's body, starting shortly before the
    first word of ``query`` found in it. Plain text: escape or highlight it when output."""
    text = body_text(article)
    if len(text) <= EXCERPT_LENGTH:
        return text
    start = 0
    pattern = _terms_re(query)
    match = pattern.search(text) if pattern else None
    if match and match.start() > LEAD_IN:
        start = text.rfind(" ", 0, match.start() - LEAD_IN) + 1
    end = start + EXCERPT_LENGTH
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    excerpt = text[start:end].strip()
    return ("…" if start else "") + excerpt + ("…" if end < len(text) else "")


@register.filter
def kb_highlight(text, query=""):
    """``text`` escaped, with the words of ``query`` wrapped in <mark>.

    The text is split on the matches first and every piece is escaped on its own, so
    neither the text nor the query can inject markup, and a query such as "amp" cannot
    match inside an entity produced by escaping.
    """
    text = str(text or "")
    pattern = _terms_re(query)
    if pattern is None:
        return escape(text)
    pieces = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        pieces.append(format_html("<mark>{}</mark>", match.group()))
        position = match.end()
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))  # every piece above went through escape()
