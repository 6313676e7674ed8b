"""The customer's navigation in the page header (includes/site_nav.html).

Every customer page shows the way to the support centre, to "My tickets" (or, before
logging in, "Find my ticket"), to "My account" where paid support is offered, and to log
in or out. The support centre is the page being served, the department's parent, the
one above a knowledge base, or else the site's first; what costs queries is kept in
Django's cache under the page tree's generation (kb_search.page_tree_generation), so a
published, unpublished or moved page shows at once.
"""

from django import template
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from wagtail.models import Page, Site

from ..kb_search import page_tree_generation
from ..models import DepartmentPage, HelpdeskPage

register = template.Library()

CACHE_SECONDS = 300


def _cache():
    from django.core.cache import cache

    return cache


def _route(name):
    # Reversed on the class: a knowledge base's trail holds plain Page objects.
    return HelpdeskPage.get_resolver().reverse(name)


def _helpdesk_in_context(context):
    page = context.get("page")
    if isinstance(page, HelpdeskPage):
        return page
    helpdesk = context.get("helpdesk")
    if isinstance(helpdesk, HelpdeskPage):
        return helpdesk
    if isinstance(page, DepartmentPage):
        return page.get_helpdesk()
    for crumb in reversed(context.get("trail") or []):
        if issubclass(crumb.specific_class or type(crumb), HelpdeskPage):
            return crumb
    return None


def _site_helpdesk(request):
    """(path, url) of the site's first live support centre, for pages outside one."""
    site = Site.find_for_request(request)
    if site is None:
        return None
    key = f"wagtail_tickets:nav_helpdesk:{page_tree_generation()}:{site.pk}:{request.get_host()}"
    found = _cache().get(key)
    if found is None:
        helpdesk = HelpdeskPage.objects.live().in_site(site).order_by("path").first()
        found = (helpdesk.path, helpdesk.get_url(request)) if helpdesk is not None else ()
        _cache().set(key, found, CACHE_SECONDS)
    return found or None


def offers_paid_support(helpdesk_path):
    """True when a live department of the support centre (given by its tree path)
    charges for requests."""
    key = f"wagtail_tickets:nav_paid:{page_tree_generation()}:{helpdesk_path}"
    paid = _cache().get(key)
    if paid is None:
        paid = (
            DepartmentPage.objects.live()
            .filter(path__startswith=helpdesk_path, depth=len(helpdesk_path) // Page.steplen + 1)
            .exclude(support_mode=DepartmentPage.SupportMode.FREE)
            .exists()
        )
        _cache().set(key, paid, CACHE_SECONDS)
    return paid


def _login_url():
    try:
        return resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        return None


def _logout_url():
    try:
        return reverse("logout")
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def support_nav(context):
    """What includes/site_nav.html shows: ``links`` (label, url, current), ``user``
    (the logged-in user or None), ``login_url``, ``logout_url`` and ``home_url``."""
    request = context.get("request")
    if request is None:
        return None
    helpdesk = _helpdesk_in_context(context)
    if helpdesk is not None:
        found = (helpdesk.path, helpdesk.get_url(request))
    else:
        found = _site_helpdesk(request)
    user = request.user if request.user.is_authenticated else None
    links = []
    if found and found[1]:
        path, url = found
        links.append((_("Support centre"), url))
        if user is not None:
            links.append((_("My tickets"), url + _route("ticket_list_route")))
            if offers_paid_support(path):
                links.append((_("My account"), url + _route("account_route")))
        else:
            links.append((_("Find my ticket"), url + _route("lookup_route")))
    login_url = _login_url() if user is None else None
    if login_url == request.path:
        login_url = None
    return {
        # Where logging out leads: the support centre, not the page just left (a
        # ticket that would then be private) nor the site's home.
        "home_url": found[1] if found else None,
        "links": [
            {"label": label, "url": url, "current": url == request.path} for label, url in links
        ],
        "user": user,
        "login_url": login_url,
        "logout_url": _logout_url() if user is not None else None,
    }
