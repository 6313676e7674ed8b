"""Reading what visitors send: values that reach the database or a redirect only once
they are sure to be harmless there.

A 20-digit id overflows SQLite's integers, ``"²".isdigit()`` is true but ``int("²")``
fails, PostgreSQL refuses strings holding NUL, a search of 2,000 words makes queries
too deep to build, and ``redirect("'")`` tries to reverse a view named ``'``. Each of
these was a server error; they are now a 404, a validation message or no filter.
"""

import re

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme

#: The largest id a 64-bit signed integer column holds (BigAutoField, SQLite INTEGER).
MAX_ID = 2**63 - 1
ID_RE = re.compile(r"[0-9]{1,19}")
#: A keyword search keeps this many characters and words.
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 12


def parse_id(value):
    """A database id (1 to MAX_ID) from ``value``, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ID_RE.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


def search_text(value, *, max_length=MAX_SEARCH_LENGTH, max_words=MAX_SEARCH_WORDS):
    """A keyword query that every search backend can take: no NUL or other control
    characters, no double quotes (a lone one breaks SQLite's full-text syntax), at most
    ``max_words`` words and ``max_length`` characters."""
    if not isinstance(value, str):
        return ""
    cleaned = "".join(ch if ch.isprintable() and ch != '"' else " " for ch in value)
    words = cleaned.split()[:max_words]
    return " ".join(words)[:max_length].strip()


def ids_only(data, names):
    """A copy of the QueryDict ``data`` whose ``names`` parameters that are not ids are
    replaced by "invalid", so model choice fields refuse them instead of handing a
    20-digit number to the database."""
    if data is None or not any(name in data for name in names):
        return data
    data = data.copy()
    for name in names:
        if name in data:
            data.setlist(
                name, [v if parse_id(v) or v == "" else "invalid" for v in data.getlist(name)]
            )
    return data


def local_url(request, target, fallback):
    """``target`` when it is a path on this site, else ``fallback``."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and "\x00" not in target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


class IdChoiceMixin:
    """For model choice fields: refuse anything that is not an id before asking the
    database (which may not take a 20-digit number)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.to_field_name is None and parse_id(getattr(value, "pk", value)) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdModelChoiceField(IdChoiceMixin, forms.ModelChoiceField):
    pass
