"""Page types: where they may live, their routes, what they render, creating them in the admin."""

import pytest
from bs4 import BeautifulSoup
from django.urls import Resolver404, reverse
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.test.utils.form_data import (
    inline_formset,
    nested_form_data,
    querydict_from_html,
    rich_text,
)

from tests import factories
from wagtail_tickets.models import DepartmentPage, HelpdeskPage, TicketFormField


def _soup(response):
    return BeautifulSoup(response.content.decode(), "html.parser")


def _home():
    return Site.objects.get(is_default_site=True).root_page.specific


# --- where pages may be created -------------------------------------------------------


@pytest.mark.django_db
def test_helpdesk_page_can_be_created_under_an_ordinary_page():
    assert HelpdeskPage.can_create_at(_home())
    assert HelpdeskPage in Page.allowed_subpage_models()
    assert HelpdeskPage.allowed_parent_page_models()  # not locked to one parent type


def test_department_page_only_under_helpdesk_page(helpdesk):
    assert DepartmentPage.allowed_parent_page_models() == [HelpdeskPage]
    assert DepartmentPage.can_create_at(helpdesk)
    assert not DepartmentPage.can_create_at(_home())
    assert not DepartmentPage.can_create_at(Page.get_first_root_node())
    assert DepartmentPage in HelpdeskPage.allowed_subpage_models()
    # A support centre does not nest inside another one.
    assert HelpdeskPage not in HelpdeskPage.allowed_subpage_models()
    assert not HelpdeskPage.can_create_at(helpdesk)


def test_nothing_can_be_created_under_a_department(department):
    assert DepartmentPage.allowed_subpage_models() == []
    assert not DepartmentPage.can_create_at(department)
    assert not HelpdeskPage.can_create_at(department)
    assert not department.specific_class.creatable_subpage_models()


# --- routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "route", "kwargs"),
    [
        ("/", "index_route", {}),
        ("/tickets/", "ticket_list_route", {}),
        ("/tickets/TECH-000001/", "ticket_route", {"code": "TECH-000001"}),
        (
            "/tickets/TECH-000001/files/42/",
            "attachment_route",
            {"code": "TECH-000001", "pk": "42"},
        ),
        ("/access/" + "a" * 32 + "/", "access_route", {"token": "a" * 32}),
        ("/lookup/", "lookup_route", {}),
    ],
)
def test_every_helpdesk_route_resolves(helpdesk, path, route, kwargs):
    match = helpdesk.resolve_subpage(path)
    assert match.url_name == route
    assert match.kwargs == kwargs
    # ...and reversing the route gives the same path back.
    assert helpdesk.reverse_subpage(route, kwargs=kwargs or None) == path.lstrip("/")


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/tech-1/",  # codes are upper case
        "/tickets/TECH-000001/files/x/",
        "/access/short/",  # far too short to be a token
        "/nonsense/",
    ],
)
def test_helpdesk_rejects_malformed_subpaths(helpdesk, path):
    with pytest.raises(Resolver404):
        helpdesk.resolve_subpage(path)


def test_department_routes_resolve(department):
    assert department.resolve_subpage("/").url_name == "form_route"
    assert department.resolve_subpage("/thanks/").url_name == "thanks_route"
    assert department.reverse_subpage("thanks_route") == "thanks/"


def test_routes_answer_over_http(client, helpdesk, department, site_settings, settings):
    base = helpdesk.url
    assert base == "/support/"
    assert client.get(base).status_code == 200
    assert client.get(base + "lookup/").status_code == 200
    # The customer's list wants a login.
    response = client.get(base + "tickets/")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    # A ticket and its files say that tickets are private and how to find one's own,
    # whether the code exists or not.
    for path in ("tickets/TECH-000001/", "tickets/TECH-000001/files/1/"):
        response = client.get(base + path)
        assert response.status_code == 403, path
        assert "This ticket is private" in response.content.decode()
    # A token that matches nothing gives the "this link does not work" page.
    response = client.get(base + "access/" + "x" * 32 + "/")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert client.get(base + "no-such-route/").status_code == 404

    assert client.get(department.url).status_code == 200
    # The thank-you page without a filed ticket says that there is nothing to show.
    response = client.get(department.url + "thanks/")
    assert response.status_code == 200
    assert "No ticket to show" in response.content.decode()


# --- what the support centre shows ------------------------------------------------------


def _department_items(response):
    return _soup(response).select("li.wt-department")


def test_support_centre_lists_live_public_departments_in_tree_order(
    client, helpdesk, site_settings
):
    zeta = factories.make_department(helpdesk, title="Zeta desk", prefix="ZET")
    alpha = factories.make_department(helpdesk, title="Alpha desk", prefix="ALP")
    factories.make_department(helpdesk, title="Draft desk", prefix="DRA", live=False)
    private = factories.make_department(helpdesk, title="Secret desk", prefix="SEC")
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )

    response = client.get(helpdesk.url)
    assert response.status_code == 200
    items = _department_items(response)
    # Tree order, not alphabetical: Zeta was added first.
    assert [li.h3.get_text(strip=True) for li in items] == ["Zeta desk", "Alpha desk"]
    for li, page in zip(items, (zeta, alpha), strict=True):
        assert li.h3.a["href"] == page.url
        assert li.select_one(".wt-department__intro").get_text(strip=True) == (
            f"{page.title} intro."
        )
        assert li.select_one("a.wt-button")["href"] == page.url
    html = response.content.decode()
    assert "Draft desk" not in html
    assert "Secret desk" not in html

    # Reordering in the tree reorders the list.
    alpha.move(zeta, pos="left")
    items = _department_items(client.get(helpdesk.url))
    assert [li.h3.get_text(strip=True) for li in items] == ["Alpha desk", "Zeta desk"]


def test_support_centre_without_departments_says_so(client, helpdesk, site_settings):
    response = client.get(helpdesk.url)
    assert "No departments accept tickets at the moment." in response.content.decode()


def test_support_centre_shows_intro_and_lookup_form(client, helpdesk, department, site_settings):
    soup = _soup(client.get(helpdesk.url))
    assert soup.select_one(".wt-intro").get_text(strip=True) == "We are here to help."
    lookup = soup.select_one("section.wt-lookup form")
    assert lookup is not None
    assert lookup["action"] == helpdesk.url + "lookup/"
    assert lookup["method"] == "post"
    assert lookup.select_one('input[name="email"]') is not None
    assert lookup.select_one('input[name="csrfmiddlewaretoken"]') is not None
    assert "Find my ticket" in soup.get_text()


def test_login_required_department_is_marked_for_anonymous_visitors(
    client, helpdesk, site_settings, customer
):
    factories.make_department(
        helpdesk, title="Billing", prefix="BIL", submitters=DepartmentPage.Submitters.LOGGED_IN
    )
    item = _department_items(client.get(helpdesk.url))[0]
    assert "Log in required" in item.get_text()
    client.force_login(customer)
    item = _department_items(client.get(helpdesk.url))[0]
    assert "Log in required" not in item.get_text()


def test_my_tickets_only_for_logged_in_users(
    client, helpdesk, department, site_settings, customer, other_customer
):
    mine = factories.open_ticket(department, customer=customer, subject="My printer")
    theirs = factories.open_ticket(department, customer=other_customer, subject="Their printer")

    anonymous = client.get(helpdesk.url).content.decode()
    assert "My open tickets" not in anonymous
    assert mine.code not in anonymous

    client.force_login(customer)
    soup = _soup(client.get(helpdesk.url))
    section = soup.find(id="wt-my-tickets").parent
    links = section.select("ul.wt-ticket-links a")
    assert [a["href"] for a in links] == [helpdesk.url + f"tickets/{mine.code}/"]
    assert "My printer" in section.get_text()
    assert theirs.code not in str(soup)
    assert section.find("a", href=helpdesk.url + "tickets/") is not None


def test_my_tickets_empty_state(client, helpdesk, department, site_settings, customer):
    client.force_login(customer)
    html = client.get(helpdesk.url).content.decode()
    assert "My open tickets" in html
    assert "You have no open tickets." in html


# --- creating pages in the Wagtail admin ------------------------------------------------


def _add_url(model, parent):
    return reverse(
        "wagtailadmin_pages:add",
        args=[model._meta.app_label, model._meta.model_name, parent.pk],
    )


def _department_post(prefix="HW", fields=(), **extra):
    data = {
        "title": "Hardware",
        "slug": "hardware",
        "intro": rich_text("<p>Broken devices.</p>"),
        "thank_you_text": rich_text("<p>Thanks!</p>"),
        "code_prefix": prefix,
        "assignment_strategy": "manual",
        "submitters": "anyone",
        "support_mode": "free",
        "form_fields": inline_formset(list(fields)),
        "action-publish": "action-publish",
    }
    data.update(extra)
    return nested_form_data(data)


def _field(label, field_type, **extra):
    return {
        "label": label,
        "field_type": field_type,
        "required": "on",
        "choices": "",
        "default_value": "",
        "help_text": "",
        # What Draftail sends for an empty editor (rich_text("") would send an empty
        # paragraph, which no browser does).
        "info_text": "null",
        **extra,
    }


def test_admin_creates_a_department_with_form_fields(client, helpdesk, superuser):
    client.force_login(superuser)
    data = _department_post(
        prefix="hw2",
        fields=[
            _field("Product", "dropdown", choices="Laptop\nPhone"),
            _field(
                "Before you write", "info", required="", info_text=rich_text("<p>Read the FAQ.</p>")
            ),
        ],
    )
    response = client.post(_add_url(DepartmentPage, helpdesk), data)
    assert response.status_code == 302, _admin_errors(response)
    assert response["Location"] == reverse("wagtailadmin_explore", args=[helpdesk.pk])

    page = DepartmentPage.objects.child_of(helpdesk).get(slug="hardware")
    assert page.live
    assert page.code_prefix == "HW2"  # typed lower case, saved upper case
    fields = list(page.form_fields.order_by("sort_order"))
    assert [(f.label, f.field_type) for f in fields] == [
        ("Product", "dropdown"),
        ("Before you write", "info"),
    ]
    assert "Read the FAQ." in fields[1].info_text
    # The new department is on the support centre right away.
    client.logout()
    assert "Hardware" in client.get(helpdesk.url).content.decode()


def test_admin_creates_a_support_centre_under_the_home_page(client, helpdesk, superuser):
    client.force_login(superuser)
    home = _home()
    data = nested_form_data(
        {
            "title": "Help",
            "slug": "help",
            "intro": rich_text("<p>Ask us.</p>"),
            "lookup_text": "",
            "tickets_per_page": "10",
            "action-publish": "action-publish",
        }
    )
    response = client.post(_add_url(HelpdeskPage, home), data)
    assert response.status_code == 302, _admin_errors(response)
    page = HelpdeskPage.objects.get(slug="help")
    assert page.get_parent().pk == home.pk
    assert page.tickets_per_page == 10


def _admin_errors(response):
    soup = _soup(response)
    return " | ".join(
        e.get_text(" ", strip=True)
        for e in soup.select(".error-message, .help-critical, .w-field__errors")
    )


PREFIX_RULE = "Use 2 to 10 capital letters or digits, starting with a letter."


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("h", PREFIX_RULE),  # one character
        ("9AB", PREFIX_RULE),  # starts with a digit
        ("AB-1", PREFIX_RULE),  # not only letters and digits
        ("ABCDEFGHIJK", "Ensure this value has at most 10 characters"),
        ("", "This field is required."),
    ],
)
def test_admin_refuses_a_bad_code_prefix(client, helpdesk, superuser, prefix, message):
    client.force_login(superuser)
    response = client.post(_add_url(DepartmentPage, helpdesk), _department_post(prefix=prefix))
    assert response.status_code == 200
    assert not DepartmentPage.objects.filter(slug="hardware").exists()
    errors = response.context["form"].errors["code_prefix"]
    assert any(message in error for error in errors), errors
    assert message in response.content.decode()


def test_admin_refuses_an_information_block_without_text(client, helpdesk, superuser):
    client.force_login(superuser)
    data = _department_post(fields=[_field("Notice", "info", required="")])
    response = client.post(_add_url(DepartmentPage, helpdesk), data)
    assert response.status_code == 200
    assert not DepartmentPage.objects.filter(slug="hardware").exists()
    assert not TicketFormField.objects.filter(label="Notice").exists()
    formset = response.context["form"].formsets["form_fields"]
    assert formset.forms[0].errors["info_text"] == ["An information block needs its text."]
    assert "An information block needs its text." in response.content.decode()


def test_admin_refuses_per_request_support_without_a_price(client, helpdesk, superuser):
    client.force_login(superuser)
    data = _department_post(support_mode="per_request")
    response = client.post(_add_url(DepartmentPage, helpdesk), data)
    assert response.status_code == 200
    assert "price_per_request" in response.context["form"].errors
    assert not DepartmentPage.objects.filter(slug="hardware").exists()


def test_admin_cannot_add_a_department_outside_a_support_centre(client, helpdesk, superuser):
    client.force_login(superuser)
    response = client.post(_add_url(DepartmentPage, _home()), _department_post())
    # Wagtail answers "permission denied" by redirecting to the dashboard with a message.
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert not DepartmentPage.objects.filter(slug="hardware").exists()


# --- preview --------------------------------------------------------------------------


def test_department_preview_renders_the_form(client, rich_department, superuser):
    client.force_login(superuser)
    edit_url = reverse("wagtailadmin_pages:edit", args=[rich_department.pk])
    post_data = querydict_from_html(client.get(edit_url).content.decode(), form_id="page-edit-form")
    post_data["title"] = "Hardware (draft title)"
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[rich_department.pk])
    response = client.post(preview_url, post_data)
    assert response.status_code == 200
    assert response.json() == {"is_valid": True, "is_available": True}

    response = client.get(preview_url)
    assert response.status_code == 200
    soup = _soup(response)
    assert soup.h1.get_text(strip=True) == "Hardware (draft title)"
    form = soup.select_one("form.wt-ticket-form")
    assert form.select_one('select[name="cf_product"]') is not None
    assert form.select_one('input[name="cf_serial_number"]') is not None
    info = form.select_one(".wt-info-block")
    assert info.get_text() == "Check the FAQ."
    assert info.b.get_text() == "FAQ"
    # The draft title was only previewed, not saved.
    rich_department.refresh_from_db()
    assert rich_department.title == "Hardware"


def test_helpdesk_preview_renders(client, helpdesk, department, superuser):
    client.force_login(superuser)
    edit_url = reverse("wagtailadmin_pages:edit", args=[helpdesk.pk])
    post_data = querydict_from_html(client.get(edit_url).content.decode(), form_id="page-edit-form")
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[helpdesk.pk])
    assert client.post(preview_url, post_data).json() == {"is_valid": True, "is_available": True}
    response = client.get(preview_url)
    assert response.status_code == 200
    assert "Technical support" in response.content.decode()
