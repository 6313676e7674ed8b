from django.conf import settings

from ..links import private_link_url


def client_ip(request):
    """The visitor's address; behind a proxy, set WAGTAIL_TICKETS_CLIENT_IP_HEADER."""
    header = getattr(settings, "WAGTAIL_TICKETS_CLIENT_IP_HEADER", None)
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None


def submitter_info(request, page):
    return {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
        "referrer": request.META.get("HTTP_REFERER", ""),
        "source_page": page.get_url(request) or "",
    }


def private_link(request, helpdesk, raw_token):
    # The site's own address, as in the e-mail, not whatever Host the request carried.
    return private_link_url(helpdesk, raw_token, helpdesk.get_full_url(request))
