"""Checks of rendered HTML that a validator would make and a browser forgives.

``assert_valid_html`` parses a page with tinyhtml5 (html5lib's WHATWG parser, kept by
WeasyPrint's authors) and fails on any parse error, then checks what the parser lets
through: ids used twice, labels and ARIA references to ids that do not exist, in-page
links to nowhere, and ``<time datetime>`` values HTML does not allow (Django's
``date:"c"`` gave six digits of microseconds, where HTML allows three at most).
"""

import re

from bs4 import BeautifulSoup
from tinyhtml5.parser import HTMLParser

# HTML's date, local and global date-and-time strings (the forms templates write).
DATETIME_RE = re.compile(
    r"^\d{4}-\d\d-\d\d"
    r"(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,3})?)?(?:Z|[+-]\d\d:?\d\d)?)?$"
)


def parse_errors(markup):
    parser = HTMLParser()
    parser.parse(markup)
    return parser.errors


def time_values(markup):
    soup = BeautifulSoup(markup, "html.parser")
    return [tag["datetime"] for tag in soup.find_all("time", attrs={"datetime": True})]


def assert_valid_datetimes(markup):
    values = time_values(markup)
    bad = [value for value in values if not DATETIME_RE.match(value)]
    assert not bad, f"invalid <time datetime> values: {bad}"
    return values


def assert_valid_html(markup):
    if isinstance(markup, bytes):
        markup = markup.decode()
    errors = parse_errors(markup)
    assert not errors, f"HTML parse errors: {errors}"
    soup = BeautifulSoup(markup, "html.parser")

    ids = [tag["id"] for tag in soup.find_all(id=True)]
    doubles = sorted({value for value in ids if ids.count(value) > 1})
    assert not doubles, f"ids used more than once: {doubles}"
    known = set(ids)

    missing = []
    for label in soup.find_all("label", attrs={"for": True}):
        if label["for"] not in known:
            missing.append(f"label for={label['for']}")
    for attribute in ("aria-labelledby", "aria-describedby", "aria-controls"):
        for tag in soup.find_all(attrs={attribute: True}):
            missing += [f"{attribute}={ref}" for ref in tag[attribute].split() if ref not in known]
    for link in soup.find_all("a", href=re.compile(r"^#.")):
        if link["href"][1:] not in known:
            missing.append(f"href={link['href']}")
    assert not missing, f"references to ids that do not exist: {missing}"

    assert_valid_datetimes(markup)
    return soup
