"""HTTP 503 with Retry-After while the database cannot answer, instead of a 500.

SQLite answers "database is locked" to a writer that waited longer than its busy
timeout; PostgreSQL refuses connections while it restarts, or ends them when an
administrator shuts it down. Neither is a bug in the request: the visitor should try
again shortly, and a proxy or client that honours ``Retry-After`` can do so.

Add it near the top of ``MIDDLEWARE`` (above the middleware that reads sessions and
users, so their database errors are caught too)::

    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "wagtail_tickets.middleware.DatabaseUnavailableMiddleware",
        ...
    ]

Any other database error is left alone: it is a 500, reported as usual.
"""

import logging

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_FLAG = "_wagtail_tickets_database_unavailable"

# SQLite: the write lock was not free within the busy timeout.
SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
# PostgreSQL SQLSTATEs: connection failures, the server shutting down or starting up,
# too many connections, and transactions it rolled back to let others through.
PG_RETRYABLE = {"57P01", "57P02", "57P03", "53300", "40001", "40P01"}


def database_unavailable(error):
    """Whether ``error`` means "the database cannot answer now, try again"."""
    if isinstance(error, InterfaceError):
        return True  # the connection is gone (server restarted under it)
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__ or error
    message = str(error).lower()
    if any(text in message for text in SQLITE_BUSY):
        return True
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate:
        return sqlstate in PG_RETRYABLE or sqlstate.startswith("08")
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    return type(cause).__module__.startswith(("psycopg", "psycopg2"))


def unavailable_response(request=None):
    html = render_to_string(
        "wagtail_tickets/503.html",
        {
            "title": _("Busy for a moment"),
            "message": _(
                "The site is too busy to answer right now. Nothing you sent was saved: "
                "please try again in a few seconds."
            ),
        },
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _FLAG, False):
            # Raised in a middleware below this one, after the view: Django has turned
            # it into its 500 page; answer what it was.
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.warning("Database unavailable: %s", exception, exc_info=exception)
        return unavailable_response(request)


@receiver(got_request_exception)
def _note_database_unavailable(sender, request=None, **kwargs):
    """Mark requests whose uncaught exception was the database being unavailable."""
    import sys

    error = sys.exc_info()[1]
    if request is not None and error is not None and database_unavailable(error):
        try:
            setattr(request, _FLAG, True)
        except AttributeError:  # pragma: no cover - a request that takes no attributes
            pass
