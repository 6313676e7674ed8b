"""What rate limits and spam checks keep in the database.

They live in the database rather than Django's cache because they must hold across
any number of app server processes without a shared cache (Redis) being required.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RateLimitLock(models.Model):
    """A lock slot. A write limit takes its key's slot (``workflow.limits.take``) for the
    rest of the transaction, then counts what was already written: concurrent writers
    with the same key wait for each other, so the count they see is exact.

    Keys are hashed onto a fixed number of slots, so the table never grows; two keys
    sharing a slot only make their writers wait for each other a moment.
    """

    slot = models.PositiveIntegerField(_("slot"), primary_key=True)
    touched_at = models.DateTimeField(_("last taken"), default=timezone.now)

    class Meta:
        verbose_name = _("rate limit lock")
        verbose_name_plural = _("rate limit locks")

    def __str__(self):
        return str(self.slot)


class UsedFormToken(models.Model):
    """The hash of a form's signed start time that has been used, until it expires.

    The honeypot's minimum fill time is a signed timestamp in the form; without this a
    robot could fetch one token and replay it for every submission.
    """

    token_hash = models.CharField(_("token hash"), max_length=64, primary_key=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("used form token")
        verbose_name_plural = _("used form tokens")

    def __str__(self):
        return self.token_hash[:12]
