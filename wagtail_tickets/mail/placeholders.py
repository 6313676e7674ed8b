"""The language of editable notification templates: ``{{ name }}`` and nothing else.

Editors write plain text (and, if they like, an HTML fragment) with placeholders from a
fixed set per event (``mail/events.py``). There are no tags, no filters, no dots and no
expressions: ``problems`` checks a template against the event's names before it is
saved, and rendering is a substitution of ready-made strings, so anything that looks
like template syntax and slipped past the check stays inert text. Django's template
engine never sees an editor's text.

Values are plain text. In a text body they go in as they are; in the HTML body they are
HTML-escaped, their line breaks become ``<br>``, and the whole result is sanitised with
nh3. Subjects are one line of plain text, never escaped.

A line whose placeholders all come out empty is left out, so optional values (a
refund's reason, a ticket's custom fields) need no conditions. So is a paragraph left
with nothing but labels ("Their comment:" above an empty comment): a label over nothing.
"""

import re
from html import escape

import nh3

#: Anything between a pair of double braces on one line (the check reports what is inside).
TOKEN_RE = re.compile(r"\{\{((?:(?!\{\{|\}\}).)*)\}\}")
NAME_RE = re.compile(r"\s*([a-z][a-z0-9_]{0,49})\s*\Z")
TAG_MARKS = ("{%", "%}", "{#", "#}")

#: What an HTML body may contain: the usual e-mail layout, inline styles, links, images.
HTML_TAGS = (nh3.ALLOWED_TAGS - {"map", "area", "details", "summary"}) | {"font"}
HTML_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "align", "valign", "width", "height", "bgcolor", "lang", "dir", "title"},
    "a": {"href", "hreflang", "title"},
    "font": {"color", "face", "size"},
    "table": {"align", "border", "cellpadding", "cellspacing", "role", "summary", "width"},
}
HTML_URL_SCHEMES = {"http", "https", "mailto"}


def names_in(text):
    """The placeholder names used in ``text`` (well-formed ones only), in order, once."""
    found = []
    for match in TOKEN_RE.finditer(text or ""):
        name = NAME_RE.match(match.group(1))
        if name and name.group(1) not in found:
            found.append(name.group(1))
    return found


class Problems:
    """What is wrong with a template's syntax, by kind; each list names the offenders."""

    def __init__(self, text, allowed):
        text = text or ""
        self.tags = any(mark in text for mark in TAG_MARKS)
        self.not_names = []
        self.unknown = []
        for match in TOKEN_RE.finditer(text):
            inner = match.group(1)
            name = NAME_RE.match(inner)
            if name is None:
                shown = "{{ " + " ".join(inner.split())[:60] + " }}"
                if shown not in self.not_names:
                    self.not_names.append(shown)
            elif name.group(1) not in allowed and name.group(1) not in self.unknown:
                self.unknown.append(name.group(1))
        rest = TOKEN_RE.sub("", text)
        self.unbalanced = "{{" in rest or "}}" in rest

    def __bool__(self):
        return bool(self.tags or self.not_names or self.unknown or self.unbalanced)


def _substitute(text, values, convert, drop=True):
    """Replace each known placeholder; drop lines whose placeholders are all empty."""

    def value(match):
        name = NAME_RE.match(match.group(1))
        if name is None or name.group(1) not in values:
            return match.group(0)  # inert: shown as written, never evaluated
        return convert(values[name.group(1)])

    if not drop:
        return TOKEN_RE.sub(value, text or "")
    text = text or ""
    body = text.rstrip("\n")
    pieces = _PARAGRAPH_BREAK.split(body)
    out = []
    # pieces alternates paragraph, break, paragraph, ...: a paragraph that goes takes
    # the break before it (the first one, the break after it) along.
    for index in range(0, len(pieces), 2):
        rendered = _paragraph(pieces[index], values, value)
        if rendered is None:
            continue
        if out:
            out.append(pieces[index - 1])
        out.append(rendered)
    return "".join(out) + text[len(body) :]


_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n(?:[ \t]*\n)*)")


def _paragraph(text, values, value):
    """One paragraph with its values in; None when nothing is left of it but labels."""
    lines, emptied = [], False
    for line in text.split("\n"):
        used = [NAME_RE.match(m.group(1)) for m in TOKEN_RE.finditer(line)]
        used = [m.group(1) for m in used if m and m.group(1) in values]
        if used and not any(str(values[name]).strip() for name in used):
            emptied = True
            continue
        lines.append(TOKEN_RE.sub(value, line))
    texts = [line for line in lines if line.strip()]
    if emptied and all(line.rstrip().endswith(":") for line in texts):
        return None
    return "\n".join(lines)


def render_text(text, values):
    """A plain-text body: values as they are, lines ending in ``\\n`` (no ``\\r``)."""
    return _substitute(str(text or "").replace("\r\n", "\n"), values, str)


#: What is left dangling at the end of a subject when its last placeholder is empty.
_DANGLING = " \t:;,-–—|·"


def render_line(text, values):
    """A subject: one line of plain text, whitespace collapsed.

    A subject ending with a placeholder that is empty loses the separator before it
    ("We have received your ticket: {{ ticket_subject }}").
    """
    text = str(text or "")
    line = " ".join(_substitute(text.replace("\r\n", "\n"), values, str, drop=False).split())
    ending = re.search(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}\s*\Z", text)
    if ending and not str(values.get(ending.group(1), "x")).strip():
        line = line.rstrip(_DANGLING)
    return line


def html_value(value):
    return escape(str(value)).replace("\n", "<br>\n")


def render_html(text, values):
    """An HTML fragment: escaped values, then the whole sanitised."""
    html = _substitute(str(text or "").replace("\r\n", "\n"), values, html_value)
    return sanitise(html)


def sanitise(html):
    return nh3.clean(
        html,
        tags=HTML_TAGS,
        clean_content_tags={"script", "style", "noscript", "template", "object", "iframe"},
        attributes=HTML_ATTRIBUTES,
        url_schemes=HTML_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
