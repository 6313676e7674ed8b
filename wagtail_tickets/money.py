"""Money: one currency per site (``WAGTAIL_TICKETS_CURRENCY``), ``Decimal`` amounts with
two places, formatted for the reader's language by Babel."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import UnknownCurrencyError, format_currency, get_currency_name
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from . import conf

CENT = Decimal("0.01")


def currency():
    """The site's ISO 4217 currency code, e.g. "USD"."""
    return _checked(str(conf.get("CURRENCY") or "").upper())


@lru_cache(maxsize=8)
def _checked(code):
    try:
        get_currency_name(code, locale="en")
    except UnknownCurrencyError:
        raise ImproperlyConfigured(
            f"WAGTAIL_TICKETS_CURRENCY must be an ISO 4217 code such as USD, not {code!r}."
        ) from None
    return code


def max_amount():
    """The largest amount staff may type for one entry."""
    return Decimal(str(conf.get("MAX_AMOUNT")))


def _locale(language=None):
    language = language or get_language() or "en"
    return to_locale(language)


def format_money(amount, language=None):
    """``amount`` in the site's currency as the reader's language writes it:
    "$1,250.00" in English, "1 250,00 ₽" in Russian."""
    if amount is None or amount == "":
        return ""
    value = Decimal(amount)
    try:
        return format_currency(value, currency(), locale=_locale(language))
    except ValueError:
        # A language Babel does not know (a site's own code): English rules.
        return format_currency(value, currency(), locale="en")


def to_amount(value):
    """A ``Decimal`` of two places, or None when ``value`` is no finite number."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite():
        return None
    return number


def is_valid_amount(value):
    """Positive, at most MAX_AMOUNT, at most two decimal places."""
    number = to_amount(value)
    if number is None or number <= 0 or number > max_amount():
        return False
    return number == number.quantize(CENT, rounding=ROUND_HALF_UP)


class AmountField(forms.DecimalField):
    """An amount typed by staff: more than zero, at most MAX_AMOUNT, two decimal places."""

    default_error_messages = {
        "invalid": _("Enter an amount such as 250 or 99.50."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", CENT)
        kwargs.setdefault("max_value", max_amount())
        kwargs.setdefault("localize", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("step", "0.01")
        self.error_messages["min_value"] = _("Enter an amount more than zero.")
        self.error_messages["max_value"] = _("Enter an amount of at most %(limit_value)s.")
        self.error_messages["max_decimal_places"] = _("Use at most two decimal places.")
        self.error_messages["max_digits"] = _("This amount is too large.")
        self.error_messages["max_whole_digits"] = _("This amount is too large.")
