"""HTML mail bodies → plain text.

The HTML is first sanitised with nh3 down to the few structural tags that matter for
the text (scripts, styles and everything else go, their content with them), then walked
by the standard library's parser into lines. Only text is stored: messages are shown
with line breaks and links, never as HTML.
"""

import re
from html.parser import HTMLParser

import nh3

_STRUCTURE = {
    "a",
    "blockquote",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "table",
    "td",
    "th",
    "tr",
    "ul",
}
_DROP_WITH_CONTENT = {"script", "style", "title", "head", "template", "noscript", "object"}
_BLOCK = _STRUCTURE - {"a", "br", "td", "th", "li"}
_MAX_HTML = 5 * 1024 * 1024


def sanitise(html):
    """The HTML reduced to a harmless structural subset."""
    return nh3.clean(
        html[:_MAX_HTML],
        tags=_STRUCTURE,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )


class _TextWriter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.href = None
        self.link_text = []
        self.pre = 0
        self.quote = 0

    def _newline(self, count=1):
        self.parts.append("\n" * count)

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self._newline()
        elif tag == "li":
            self._newline()
            self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag == "hr":
            self._newline()
            self.parts.append("----")
            self._newline()
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []
        elif tag in _BLOCK:
            self._newline(2 if tag in ("p", "blockquote", "pre", "table") else 1)
        if tag == "pre":
            self.pre += 1
        if tag == "blockquote":
            self.quote += 1

    def handle_endtag(self, tag):
        if tag == "a":
            text = "".join(self.link_text).strip()
            if self.href and not self.href.startswith("mailto:") and self.href not in text:
                self.parts.append(f" <{self.href}>")
            self.href = None
        elif tag in _BLOCK:
            self._newline(2 if tag in ("p", "blockquote", "pre", "table") else 1)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)

    def handle_data(self, data):
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        if self.quote and data.strip():
            data = data.replace("\n", "\n> ")
            if not self.parts or self.parts[-1].endswith("\n"):
                data = "> " * self.quote + data.lstrip()
        if self.href is not None:
            self.link_text.append(data)
        self.parts.append(data)

    def text(self):
        raw = "".join(self.parts).replace("\xa0", " ")
        lines = [line.rstrip() for line in raw.split("\n")]
        text = "\n".join(line if line.startswith(" " * 4) else line.lstrip(" ") for line in lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def to_text(html):
    writer = _TextWriter()
    writer.feed(sanitise(html))
    writer.close()
    return writer.text()
