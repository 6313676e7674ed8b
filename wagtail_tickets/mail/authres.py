"""Whether a message's From address is its real sender, as the receiving mail server saw.

A From header is only text: anyone can write an agent's address into it. The mail
server that received the message checked SPF, DKIM and DMARC and wrote what it found
into an ``Authentication-Results`` header (RFC 8601), named by its *authserv-id*
(``mx.google.com``, ``mx.yandex.ru``, the site's own Postfix). The helpdesk believes
only the servers named in ``WAGTAIL_TICKETS_MAIL_TRUSTED_AUTHSERV_IDS``, and only their
topmost header: a receiving server adds its header above everything the sender wrote, so
a header the sender forged under the same name sits lower.

The From address's domain is verified by a pass of DMARC, or of DKIM or SPF for the same
domain (or a parent or subdomain of it, DMARC's relaxed alignment).
"""

from .. import conf

PASS = "pass"
FAIL = "fail"
NONE = "none"

_MAX_HEADER = 8000


def _without_comments(value):
    """The header with its (possibly nested) comments removed; quoted strings kept."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in value[:_MAX_HEADER]:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            if char == '"':
                quoted = False
            out.append(char)
            continue
        if char == "(":
            depth += 1
            continue
        if char == ")" and depth:
            depth -= 1
            continue
        if depth:
            continue
        if char == '"':
            quoted = True
        out.append(char)
    return "".join(out)


def parse(value):
    """``(authserv_id, [(method, result, {property: value})])`` of one header value."""
    parts = [part.strip() for part in _without_comments(" ".join(value.split())).split(";")]
    if not parts or not parts[0]:
        return "", []
    authserv_id = parts[0].split()[0].lower()
    results = []
    for part in parts[1:]:
        words = part.split()
        if not words or "=" not in words[0]:
            continue
        method, _, result = words[0].partition("=")
        properties = {}
        for word in words[1:]:
            key, sep, prop = word.partition("=")
            if sep:
                properties.setdefault(key.lower(), prop.strip('"').lower())
        results.append((method.split("/")[0].lower(), result.lower(), properties))
    return authserv_id, results


def _domain(value):
    return value.rpartition("@")[2].strip().strip(".").lower()


def aligned(domain, from_domain):
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )


def trusted_ids():
    ids = conf.get("MAIL_TRUSTED_AUTHSERV_IDS") or ()
    if isinstance(ids, str):
        ids = [ids]
    return {str(i).strip().lower() for i in ids if str(i).strip()}


def verdict(headers, from_address, trusted=None):
    """PASS, FAIL or NONE for ``from_address``, from the raw ``Authentication-Results``
    values of a message (topmost first). NONE: no trusted header, or nothing it says
    settles the address either way."""
    trusted = trusted_ids() if trusted is None else trusted
    from_domain = _domain(from_address or "")
    if not trusted or not from_domain:
        return NONE
    for value in headers:
        authserv_id, results = parse(value)
        if authserv_id in trusted:
            return _judge(results, from_domain)
    return NONE


def _checked_domain(method, properties, from_domain):
    """The domain a method's result is about, or None for methods not read here."""
    if method == "dmarc":
        return properties.get("header.from", from_domain)
    if method == "dkim":
        return properties.get("header.d") or _domain(properties.get("header.i", ""))
    if method == "spf":
        return _domain(properties.get("smtp.mailfrom", "") or properties.get("smtp.helo", ""))
    return None


def _judge(results, from_domain):
    failed = False
    for method, result, properties in results:
        if not aligned(_checked_domain(method, properties, from_domain), from_domain):
            continue
        if result == PASS:
            return PASS
        failed = failed or result == FAIL
    return FAIL if failed else NONE
