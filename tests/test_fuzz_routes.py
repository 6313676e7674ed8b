"""No input, however odd, makes any route of the package answer 5xx.

Every URL route of the package is found from Django's URL resolver (the desk's admin
views and viewsets, the bulk actions) and from the page types' RoutablePage routes (the
support centre, departments, knowledge bases, articles), so a new route is covered
without touching this file. Each is requested as an anonymous visitor, a customer and
an agent, with odd values in its path (a 20-digit id) and in every GET parameter and
form field the page shows, plus the raw parameters the package's views read: huge and
negative numbers, NUL bytes, lone quotes, a 10,000-character string, 2,000 words,
digits outside ASCII, invalid UTF-8. Any answer is fine but a server error.
"""

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories
from wagtail_tickets import billing, links, workflow
from wagtail_tickets.admin.inbox_bulk import BULK_ACTIONS
from wagtail_tickets.models import (
    ArticlePage,
    DepartmentPage,
    HelpdeskPage,
    IncidentGrant,
    IncidentPack,
    KnowledgeBaseIndexPage,
    LedgerEntry,
    Mailbox,
    Priority,
    SavedReply,
    SavedSearch,
    StaffMember,
    Status,
    SupportAccount,
    Ticket,
)

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
ODD_VALUES = [
    HUGE,
    "-1",
    "\x00",
    "a\x00b",
    '"',
    "'",
    "\"'<>%;--",
    "x" * 10_000,
    " ".join(["word"] * 2000),
    "١٢",  # Arabic-Indic digits: isdigit() says yes, int() agrees, SQL may not
    "²",  # isdigit() says yes, int() refuses
]
INVALID_UTF8 = "%ff%fe%fd%c0%af"
#: Parameters the package's views read from the request directly, beside form fields.
RAW_PARAMS = [
    "q",
    "p",
    "page",
    "article",
    "from",
    "next",
    "id",
    "all",
    "ordering",
    "notes",
    "voted",
    "tag",
    "category",
    "department",
    "status",
    "state",
    "assignee",
    "customer",
    "event",
    "helpful",
    "action",
    "message",
    "period",
    "minimum",
    "messages",
    "before",
    "saved_reply",
    "columns",
    "agent",
    "score",
    "start",
    "end",
]
NAMESPACE_MODELS = {
    "helpdesk_statuses": Status,
    "helpdesk_priorities": Priority,
    "helpdesk_staff": StaffMember,
    "helpdesk_saved_searches": SavedSearch,
    "helpdesk_saved_replies": SavedReply,
    "helpdesk_billing_accounts": SupportAccount,
    "helpdesk_billing_packs": IncidentPack,
    "helpdesk_mailboxes": Mailbox,
}
#: Path parameters that name a row of another model than their view's.
PARAM_MODELS = {
    "entry_pk": LedgerEntry,
    "grant_pk": IncidentGrant,
    "ticket_pk": Ticket,
}
PAGE_TYPES = [HelpdeskPage, DepartmentPage, KnowledgeBaseIndexPage, ArticlePage]


# --- the routes ----------------------------------------------------------------------------


def _admin_patterns():
    """(full URL name, parameter names, model) of the package's admin routes."""

    def walk(patterns, namespaces):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield namespaces, pattern

    found = []
    for namespaces, pattern in walk(get_resolver().url_patterns, ()):
        callback = pattern.callback
        module = getattr(callback, "view_class", callback).__module__
        namespace = ":".join(namespaces)
        if not (module.startswith("wagtail_tickets") or namespace.startswith("helpdesk_")):
            continue
        initkwargs = getattr(callback, "view_initkwargs", {})
        model = initkwargs.get("model") or NAMESPACE_MODELS.get(namespace) or Ticket
        params = list(pattern.pattern.converters)
        name = f"{namespace}:{pattern.name}" if namespace else pattern.name
        found.append((name, params, model))
    return found


@pytest.fixture
def scene(helpdesk, department, customer, site_settings):
    factories.site_settings(captcha_mode="none", anonymous_tickets_per_hour=10_000)
    agent = factories.make_manager(
        "fuzzer",
        codenames=["view_all_departments", "assign_ticket", "change_ticket_fields"],
        departments=[department],
    )
    agent = factories.grant(
        agent,
        "edit_message",
        "delete_message",
        "manage_billing",
        "view_supportaccount",
        "manage_notification_templates",
        "view_analytics",
    )
    kb = factories.make_kb(helpdesk, "Knowledge base")
    factories.make_article(kb, "Printer jams", body_text="Open the tray.", tags=["printer"])
    ticket, raw = factories.open_ticket_with_token(department, customer=customer)
    message = workflow.post_reply(
        ticket,
        body="Log attached.",
        author=customer,
        attachments=[factories.validated("log.txt", b"log\n")],
    )
    reply = workflow.post_reply(ticket, body="Looking.", author=agent, by_staff=True)
    # A rating, for the analytics screens and the ticket screen to show.
    workflow.rate(reply, score=2, comment="=odd", user=customer)
    SavedSearch.objects.create(owner=agent, name="Mine", query_string="assignee=me")
    SavedReply.objects.create(title="Thanks", body="Thank you, {customer_name}.", owner=agent)
    # A row of each model the admin's routes name, so that every route is reached.
    pack = IncidentPack.objects.create(name="Starter", incidents=5)
    billing.grant_pack(customer, pack)
    billing.deposit(customer, Decimal("100.00"), reason="Order 1")
    Mailbox.objects.create(name="support", address="support@example.com", department=department)
    # Searches reach the full-text index only when it holds something.
    factories.index_tickets(ticket)
    return {
        "agent": agent,
        "customer": customer,
        "ticket": ticket,
        "raw": raw,
        "message": message,
        "attachment": message.attachments.get(),
        # The resolve mail's rating link of the staff reply: its page asks for a score.
        "rating_token": links.rating_token(reply, 4),
    }


def _admin_urls(scene):
    """(url, path variants with a huge id) of every admin route."""
    ticket = scene["ticket"]
    values = {
        "message_pk": scene["message"].pk,
        "attachment_pk": scene["attachment"].pk,
        "uidb64": "MQ",
        "token": "set-password",
        # Notification templates are named by event and language, not by a row.
        "event_name": "ticket_opened_customer",
        "language": "ru",
    }
    urls = []
    for name, params, model in _admin_patterns():
        kwargs = {}
        for param in params:
            if param in values:
                kwargs[param] = values[param]
            elif param in PARAM_MODELS:
                kwargs[param] = (
                    PARAM_MODELS[param].objects.order_by("pk").values_list("pk", flat=True)[0]
                )
            elif model is Ticket:
                kwargs[param] = ticket.pk
            else:
                kwargs[param] = model.objects.order_by("pk").values_list("pk", flat=True)[0]
        url = reverse(name, kwargs=kwargs)
        urls.append(url)
        for value in kwargs.values():
            urls.append(url.replace(f"/{value}/", f"/{HUGE}/", 1))
    for action in BULK_ACTIONS:
        base = reverse(
            "wagtail_bulk_action", args=["wagtail_tickets", "ticket", action.action_type]
        )
        urls.append(f"{base}?id={ticket.pk}")
        urls.append(f"{base}?id=all")
    return sorted(set(urls))


def _page_urls(scene):
    ticket = scene["ticket"]
    values = {
        "code": ticket.code,
        "pk": scene["attachment"].pk,
        "token": scene["raw"],
    }
    odd = {"code": f"TECH-{HUGE}", "pk": HUGE, "token": "A" * 199}
    #: Routes whose parameter of a shared name holds another kind of value.
    route_values = {"rate_route": {"token": scene["rating_token"]}}
    urls = []
    for page_type in PAGE_TYPES:
        page = page_type.objects.live().first()
        for pattern in page_type.get_subpage_urls():
            params = list(pattern.pattern.regex.groupindex)
            own = route_values.get(pattern.name, {})
            kwargs = {param: own.get(param, values[param]) for param in params}
            url = page.url + page.reverse_subpage(pattern.name, kwargs=kwargs)
            urls.append(url)
            for param in params:
                urls.append(url.replace(str(kwargs[param]), odd[param], 1))
    return sorted(set(urls))


# --- the requests --------------------------------------------------------------------------


def _forms(response):
    """(method, action or None, field names) of the forms on an HTML answer."""
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    soup = BeautifulSoup(response.content.decode(errors="replace"), "html.parser")
    forms = []
    for form in soup.find_all("form"):
        names = sorted(
            {
                field.get("name")
                for field in form.find_all(["input", "select", "textarea", "button"])
                if field.get("name") and field.get("name") != "csrfmiddlewaretoken"
            }
        )
        forms.append(((form.get("method") or "get").lower(), form.get("action") or None, names))
    return forms


class Fuzzer:
    def __init__(self, client):
        self.client = client
        self.failures = []

    def check(self, response, what):
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {what}")
        return response

    def get(self, url, params=None, query_string=None):
        extra = {"QUERY_STRING": query_string} if query_string is not None else {}
        response = self.client.get(url, params, **extra)
        label = query_string if query_string is not None else _short(params)
        return self.check(response, f"GET {url} {label}")

    def post(self, url, data, raw=None):
        if raw is not None:
            response = self.client.post(url, raw, content_type="application/x-www-form-urlencoded")
            return self.check(response, f"POST {url} {raw}")
        return self.check(self.client.post(url, data), f"POST {url} {_short(data)}")

    def fuzz(self, url, *, thorough=True):
        first = self.get(url)
        if not thorough:
            return
        forms = _forms(first)
        get_names = set(RAW_PARAMS)
        posts = {url: set(RAW_PARAMS)}
        for method, action, names in forms:
            if method == "get":
                get_names.update(names)
            else:
                target = action if action and action.startswith("/") else url
                posts.setdefault(target.split("#")[0], set()).update(names)
        base = url.split("?")[0]
        for value in ODD_VALUES:
            self.get(base, {name: value for name in sorted(get_names)})
            for target, names in posts.items():
                self.post(target, {name: value for name in sorted(names)})
        raw = "&".join(f"{quote(name)}={INVALID_UTF8}" for name in sorted(get_names))
        self.get(base, query_string=raw)
        for target, names in posts.items():
            self.post(target, None, raw="&".join(f"{name}={INVALID_UTF8}" for name in names))


def _short(data):
    text = repr(data)
    return text if len(text) < 160 else text[:160] + "…"


def _client(scene, role):
    client = Client(raise_request_exception=False)
    if role == "customer":
        client.force_login(scene["customer"])
    elif role == "agent":
        client.force_login(scene["agent"])
    elif role == "link_holder":
        client.get(f"{scene['ticket'].helpdesk.url}access/{scene['raw']}/")
    return client


# --- the tests -------------------------------------------------------------------------------


def test_the_routes_are_found(scene):
    admin, pages = _admin_urls(scene), _page_urls(scene)
    assert any("/helpdesk_inbox/" in url for url in admin)
    assert any("/fields/" in url for url in admin)
    assert any("/notification-templates/ticket_opened_customer/ru/" in url for url in admin)
    assert any(re.search(r"/bulk/wagtail_tickets/ticket/merge/", url) for url in admin)
    assert any("/lookup/" in url for url in pages)
    assert any("/suggest/" in url for url in pages)
    assert any("/vote/" in url for url in pages)
    assert any("/analytics/" in url for url in admin)
    assert any(f"/rate/{scene['rating_token']}/" in url for url in pages)
    assert any(HUGE in url for url in admin) and any(HUGE in url for url in pages)


@pytest.mark.parametrize("role", ["anonymous", "link_holder", "customer", "agent"])
def test_page_routes_never_answer_5xx(scene, role):
    fuzzer = Fuzzer(_client(scene, role))
    for url in _page_urls(scene):
        fuzzer.fuzz(url)
    assert not fuzzer.failures, "\n".join(fuzzer.failures)


@pytest.mark.parametrize("role", ["anonymous", "customer", "agent"])
def test_admin_routes_never_answer_5xx(scene, role):
    fuzzer = Fuzzer(_client(scene, role))
    for url in _admin_urls(scene):
        # Others are turned away before reading anything; the agent gets everything.
        fuzzer.fuzz(url, thorough=role == "agent")
    assert not fuzzer.failures, "\n".join(fuzzer.failures)
