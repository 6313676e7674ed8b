import ipaddress

from django.conf import settings


def _parse_ip(value):
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request):
    """The visitor's address.

    Behind a proxy, set WAGTAIL_TICKETS_CLIENT_IP_HEADER to the header it sets, e.g.
    "HTTP_X_FORWARDED_FOR". Its last entry is the one our own proxy appended, so a
    client cannot choose it; anything unparsable falls back to REMOTE_ADDR.
    """
    header = getattr(settings, "WAGTAIL_TICKETS_CLIENT_IP_HEADER", None)
    if header and request.META.get(header):
        parsed = _parse_ip(request.META[header].split(",")[-1])
        if parsed:
            return parsed
    return _parse_ip(request.META.get("REMOTE_ADDR"))


def submitter_info(request, page):
    return {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
        "referrer": request.META.get("HTTP_REFERER", ""),
        "source_page": page.get_url(request) or "",
    }
