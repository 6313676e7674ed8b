"""Customers rating staff replies: on the ticket page, and through the resolve mail's links.

The mail's links are signed and expire; opening one only shows a confirmation page with
the score chosen (mail scanners open links), and the rating is stored when the form is
sent. A score of 1 or 2 offers to reopen the ticket, unless the site reopens it by
itself (Helpdesk settings).
"""

import time

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import conf, links, workflow
from ..forms import RatingForm
from ..models import HelpdeskSettings, Message, Rating, Status
from ..workflow.ratings import can_change, is_rateable
from .utils import client_ip

RATE_WINDOW_SECONDS = 3600


def within_rate_limit(request):
    """Count one rating from this address; False once it sent too many this hour."""
    limit = conf.get("RATINGS_PER_HOUR")
    if not limit:
        return True
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"wagtail_tickets:ratings:{client_ip(request)}:{window}"
    # add + incr are atomic in shared caches, so concurrent requests cannot both pass
    # the last free slot.
    cache.add(key, 0, RATE_WINDOW_SECONDS + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, RATE_WINDOW_SECONDS + 60)
        count = 1
    return count <= limit


def rating_of(message):
    try:
        return message.rating
    except ObjectDoesNotExist:
        return None


def annotate(conversation, site_settings, now=None):
    """Give each message ``wt_rateable``, ``wt_rating`` and ``wt_can_rate`` for the page."""
    now = now or timezone.now()
    days = site_settings.rating_change_days
    for message in conversation:
        message.wt_rateable = is_rateable(message)
        message.wt_rating = rating_of(message) if message.wt_rateable else None
        message.wt_can_rate = message.wt_rateable and (
            message.wt_rating is None or can_change(message.wt_rating, days, now)
        )
    return conversation


def _unhappy_note(request, rated, ticket):
    if rated.reopened:
        messages.warning(
            request,
            _("We are sorry. Your ticket has been reopened and the support team has been told."),
        )
    elif rated.rating.is_unhappy and ticket.status.kind in Status.ARCHIVED_KINDS:
        messages.warning(
            request,
            _(
                "We are sorry. The support team has been told; if the problem is not solved, "
                "reopen the ticket."
            ),
        )


def _rate(request, message, *, source):
    """Validate the form and rate ``message``; returns (Rated or None, form)."""
    form = RatingForm(request.POST)
    if not form.is_valid():
        return None, form
    site_settings = HelpdeskSettings.for_request(request)
    try:
        rated = workflow.rate(
            message,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
            user=request.user if request.user.is_authenticated else None,
            source=source,
            change_days=site_settings.rating_change_days,
            reopen_if_unhappy=site_settings.reopen_on_low_rating,
        )
    except workflow.WorkflowError as error:
        form.add_error(None, str(error))
        return None, form
    return rated, form


def _too_many(request):
    messages.error(request, _("You have sent many ratings. Please try again in an hour."))


# --------------------------------------------------------------------------------------
# On the ticket page (called by views.portal.ticket_detail, which checked access)
# --------------------------------------------------------------------------------------


def _posted_message(request, ticket):
    try:
        pk = int(request.POST.get("message", ""))
    except ValueError:
        return None
    if not 0 < pk < 2**63:
        return None
    message = Message.objects.filter(pk=pk, ticket=ticket).select_related("ticket").first()
    return message if message is not None and is_rateable(message) else None


def rate_on_page(request, ticket, ticket_url):
    message = _posted_message(request, ticket)
    if message is None:
        messages.error(request, _("That reply cannot be rated."))
        return redirect(ticket_url)
    target = f"{ticket_url}#message-{message.pk}"
    if not within_rate_limit(request):
        _too_many(request)
        return redirect(target)
    rated, form = _rate(request, message, source=Rating.Source.PAGE)
    if rated is None:
        for error in form.errors.get("__all__", []) or [
            e for errors in form.errors.values() for e in errors
        ]:
            messages.error(request, error)
        return redirect(target)
    if rated.changed:
        messages.success(request, _("Thank you for rating the reply."))
    _unhappy_note(request, rated, message.ticket)
    return redirect(target)


def reopen_on_page(request, ticket, ticket_url):
    message = _posted_message(request, ticket)
    rating = rating_of(message) if message is not None else None
    if rating is None or not rating.is_unhappy:
        messages.error(request, _("That action does not apply to this ticket now."))
        return redirect(ticket_url)
    _reopen(request, rating)
    return redirect(ticket_url)


def _reopen(request, rating):
    user = request.user if request.user.is_authenticated else None
    try:
        reopened = workflow.reopen_unhappy(rating, user=user)
    except workflow.WorkflowError:
        reopened = False
    if reopened:
        messages.success(
            request, _("Your ticket has been reopened. The support team will get back to you.")
        )
    else:
        messages.info(request, _("The ticket is already open."))


# --------------------------------------------------------------------------------------
# The mail's links
# --------------------------------------------------------------------------------------


def _linked_message(page, token):
    parsed = links.parse_rating_token(token)
    if parsed is None:
        return None, None
    pk, score = parsed
    if not 1 <= score <= 5 or not 0 < pk < 2**63:
        return None, None
    message = (
        Message.objects.filter(pk=pk)
        .select_related("ticket", "ticket__status", "ticket__department", "author", "rating")
        .first()
    )
    if message is None or not is_rateable(message):
        return None, None
    department = message.ticket.department
    if department is not None and not department.path.startswith(page.path):
        return None, None  # a ticket of another support centre
    return message, score


@never_cache
def rate_link(request, page, token):
    message, score = _linked_message(page, token)
    if message is None:
        context = page.get_context(request)
        return TemplateResponse(request, "wagtail_tickets/rating_invalid.html", context, status=404)
    here = request.path
    ticket = message.ticket
    rating = rating_of(message)
    site_settings = HelpdeskSettings.for_request(request)
    can_rate = rating is None or can_change(rating, site_settings.rating_change_days)
    status = 200
    form = RatingForm(initial={"score": score, "comment": rating.comment if rating else ""})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "reopen" and rating is not None and rating.is_unhappy:
            _reopen(request, rating)
            return redirect(here)
        if action != "rate" or not can_rate:
            messages.error(request, _("That action does not apply to this ticket now."))
            return redirect(here)
        if not within_rate_limit(request):
            _too_many(request)
            return redirect(here)
        rated, form = _rate(request, message, source=Rating.Source.EMAIL)
        if rated is not None:
            messages.success(request, _("Thank you for rating the reply."))
            _unhappy_note(request, rated, ticket)
            return redirect(here)
        status = 400
    context = page.get_context(request)
    context.update(
        message=message,
        ticket=ticket,
        rating=rating,
        can_rate=can_rate,
        offer_reopen=bool(
            rating and rating.is_unhappy and ticket.status.kind in Status.ARCHIVED_KINDS
        ),
        form=form,
        action_url=here,
    )
    return TemplateResponse(request, "wagtail_tickets/rate.html", context, status=status)
