"""What the shop-facing commands share: finding the customer."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils.translation import gettext as _


def find_customer(value):
    """The active user whose username or e-mail address is ``value``."""
    User = get_user_model()
    value = (value or "").strip()
    matches = list(
        User.objects.filter(
            Q(**{f"{User.USERNAME_FIELD}__iexact": value}) | Q(email__iexact=value)
        )[:2]
    )
    if not matches:
        raise CommandError(
            _("No user has the username or e-mail address %(value)s.") % {"value": value}
        )
    if len(matches) > 1:
        raise CommandError(
            _("Several users have the address %(value)s; give the username.") % {"value": value}
        )
    return matches[0]
