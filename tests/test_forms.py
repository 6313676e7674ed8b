"""The department's submission form, seen from the visitor's side."""

import hashlib
import time
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.core import signing
from django_recaptcha.client import RecaptchaResponse

from tests import factories
from wagtail_tickets import captcha
from wagtail_tickets.models import Attachment, DepartmentPage, Message, Ticket

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _valid(**extra):
    """A complete, valid submission for the ``rich_department`` form."""
    data = {
        "name": "Ann Visitor",
        "email": "ann@example.com",
        "subject": "Screen flickers",
        "message": "The screen flickers after the update.",
        "cf_product": "Phone",
        "cf_serial_number": "SN-1",
        "cf_severity": "High",
    }
    data.update(extra)
    return data


def _basic(**extra):
    """A valid submission for a department without custom fields."""
    data = {
        "name": "Ann Visitor",
        "email": "ann@example.com",
        "subject": "Cannot log in",
        "message": "The password is refused.",
    }
    data.update(extra)
    return data


def _soup(response):
    return BeautifulSoup(response.content.decode(), "html.parser")


def _wrapper(soup, name):
    """The .wt-field block around the control called ``name``."""
    control = soup.find(attrs={"name": name})
    assert control is not None, f"no control named {name}"
    return control.find_parent("div", class_="wt-field")


def _field_errors(soup, name):
    return [p.get_text(strip=True) for p in _wrapper(soup, name).select(".wt-field__error")]


def _summary(soup):
    return [li.get_text(" ", strip=True) for li in soup.select("#wt-error-summary li")]


def _refused(response):
    assert response.status_code == 400, response.status_code
    assert Ticket.objects.count() == 0
    return _soup(response)


def _stored(ticket):
    return {item["name"]: item for item in ticket.custom_fields}


# --- custom field types -----------------------------------------------------------------


def test_every_field_type_is_stored_with_its_label(client, rich_department, site_settings):
    data = _valid(
        cf_product="Tablet",
        cf_steps_to_reproduce="Open the lid.\nWait a minute.",
        cf_contact_e_mail="boss@example.org",
        cf_order_number="42",
        cf_page_address="https://example.org/help?x=1",
        cf_under_warranty="on",
        cf_accessories=["Charger", "Cable"],
        cf_operating_systems=["Linux", "macOS"],
        cf_severity="Low",
        cf_purchase_date="2024-02-29",
        cf_failure_time="2024-03-01T14:30",
    )
    response = client.post(rich_department.url, data)
    assert response.status_code == 302, _summary(_soup(response))
    ticket = Ticket.objects.get()
    assert ticket.customer is None
    stored = _stored(ticket)
    expected = {
        "product": ("Product", "dropdown", "Tablet"),
        "serial_number": ("Serial number", "singleline", "SN-1"),
        "steps_to_reproduce": ("Steps to reproduce", "multiline", "Open the lid.\nWait a minute."),
        "contact_e_mail": ("Contact e-mail", "email", "boss@example.org"),
        "order_number": ("Order number", "number", "42"),
        "page_address": ("Page address", "url", "https://example.org/help?x=1"),
        "under_warranty": ("Under warranty", "checkbox", True),
        "accessories": ("Accessories", "checkboxes", ["Charger", "Cable"]),
        "operating_systems": ("Operating systems", "multiselect", ["Linux", "macOS"]),
        "severity": ("Severity", "radio", "Low"),
        "purchase_date": ("Purchase date", "date", "2024-02-29"),
    }
    for name, (label, field_type, value) in expected.items():
        assert stored[name]["label"] == label
        assert stored[name]["type"] == field_type
        assert stored[name]["value"] == value, name
    # Datetimes are kept as ISO 8601 (time zone aware).
    assert stored["failure_time"]["label"] == "Failure time"
    assert stored["failure_time"]["value"].startswith("2024-03-01T14:30:00")
    # The number is a string, not a float that would lose digits.
    assert isinstance(stored["order_number"]["value"], str)
    # In the order of the form; the information block is not a value.
    assert [item["name"] for item in ticket.custom_fields] == list(expected)[:10] + [
        "purchase_date",
        "failure_time",
    ]


def test_unticked_checkbox_and_empty_optional_fields(client, rich_department, site_settings):
    response = client.post(rich_department.url, _valid())
    assert response.status_code == 302
    stored = _stored(Ticket.objects.get())
    assert stored["under_warranty"]["value"] is False
    assert stored["accessories"]["value"] == []
    assert stored["purchase_date"]["value"] is None
    assert stored["order_number"]["value"] is None


def test_customer_sees_the_details_with_their_labels(
    client, rich_department, site_settings, customer
):
    client.force_login(customer)
    data = _valid(
        cf_accessories=["Case", "Cable"],
        cf_under_warranty="on",
        cf_order_number="7.5",
        cf_purchase_date="2024-02-29",
    )
    response = client.post(rich_department.url, data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    page = _soup(client.get(rich_department.get_parent().url + f"tickets/{ticket.code}/"))
    details = {
        div.dt.get_text(strip=True): div.dd.get_text(strip=True)
        for div in page.select("dl.wt-details > div")
    }
    assert details["Product"] == "Phone"
    assert details["Accessories"] == "Case, Cable"
    assert details["Under warranty"] == "Yes"
    assert details["Order number"] == "7.5"
    assert details["Purchase date"] == "2024-02-29"
    assert details["Contact e-mail"] == "—"
    assert "Before you write" not in details


def test_information_block_renders_and_is_not_stored(client, rich_department, site_settings):
    soup = _soup(client.get(rich_department.url))
    block = soup.select_one(".wt-field--info .wt-info-block")
    assert block is not None
    assert block.get_text() == "Check the FAQ."
    assert block.find("b").get_text() == "FAQ"  # rich text, not escaped markup
    assert soup.find(attrs={"name": "cf_before_you_write"}) is None

    response = client.post(rich_department.url, _valid(cf_before_you_write="sneaky"))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert "before_you_write" not in _stored(ticket)
    assert "sneaky" not in str(ticket.custom_fields)


def test_help_texts_are_shown_and_linked(client, helpdesk, site_settings):
    dept = factories.make_department(
        helpdesk,
        title="Devices",
        prefix="DEV",
        fields=[
            {
                "label": "Serial number",
                "field_type": "singleline",
                "help_text": "Printed on the back of the device.",
            },
            {
                "label": "Colour",
                "field_type": "radio",
                "choices": "Red\nBlue",
                "help_text": "As on the box.",
            },
        ],
    )
    soup = _soup(client.get(dept.url))
    help_p = soup.find(id="id_cf_serial_number_help")
    assert help_p.get_text(strip=True) == "Printed on the back of the device."
    assert "id_cf_serial_number_help" in soup.find(id="id_cf_serial_number")["aria-describedby"]
    assert soup.find(id="id_cf_colour_help").get_text(strip=True) == "As on the box."
    fieldset = _wrapper(soup, "cf_colour").fieldset
    assert fieldset["aria-describedby"] == "id_cf_colour_help"
    # The fixed fields have theirs too.
    assert "one problem per ticket" in soup.find(id="id_message_help").get_text()


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("email", "not-an-address", "Enter a valid email address."),
        ("cf_contact_e_mail", "boss(at)example", "Enter a valid email address."),
        ("cf_page_address", "not a url", "Enter a valid URL."),
        ("cf_order_number", "forty-two", "Enter a number."),
        ("cf_purchase_date", "2024-02-30", "Enter a valid date."),
        ("cf_failure_time", "yesterday", "Enter a valid date/time."),
        (
            "cf_product",
            "Fridge",
            "Select a valid choice. Fridge is not one of the available choices.",
        ),
        (
            "cf_severity",
            "Medium",
            "Select a valid choice. Medium is not one of the available choices.",
        ),
    ],
)
def test_bad_value_gets_an_error_next_to_its_field(
    client, rich_department, site_settings, name, value, error
):
    soup = _refused(client.post(rich_department.url, _valid(**{name: value})))
    assert _field_errors(soup, name) == [error]
    wrapper = _wrapper(soup, name)
    assert "wt-field--error" in wrapper["class"]
    # Only that field complains.
    assert len(soup.select(".wt-field__error")) == 1
    summary = _summary(soup)
    assert len(summary) == 1 and summary[0].endswith(error)
    # What was typed is still there: the mistake (where a text box can hold it) and the rest.
    control = soup.find(attrs={"name": name})
    if control.name == "input" and control.get("type") != "radio":
        assert control["value"] == value
    if name != "email":
        assert soup.find("input", attrs={"name": "email"})["value"] == "ann@example.com"
    assert soup.find("input", attrs={"name": "subject"})["value"] == "Screen flickers"
    assert soup.find("input", attrs={"name": "cf_serial_number"})["value"] == "SN-1"
    assert (
        "The screen flickers after the update."
        in soup.find("textarea", attrs={"name": "message"}).get_text()
    )


def test_bad_choice_in_multiple_choice_fields(client, rich_department, site_settings):
    soup = _refused(
        client.post(
            rich_department.url,
            _valid(cf_accessories=["Case", "Bag"], cf_operating_systems=["BeOS"]),
        )
    )
    assert _field_errors(soup, "cf_accessories") == [
        "Select a valid choice. Bag is not one of the available choices."
    ]
    assert _field_errors(soup, "cf_operating_systems") == [
        "Select a valid choice. BeOS is not one of the available choices."
    ]
    hrefs = [a["href"] for a in soup.select("#wt-error-summary li a")]
    assert hrefs == ["#id_cf_accessories", "#id_cf_operating_systems"]
    # The group's link leads to the group around the checkboxes.
    assert soup.find(id="id_cf_accessories").find("input", attrs={"name": "cf_accessories"})


def test_missing_required_custom_fields_name_their_label(client, rich_department, site_settings):
    data = _valid(cf_product="")  # the dropdown left on its empty first choice
    del data["cf_serial_number"], data["cf_severity"]
    soup = _refused(client.post(rich_department.url, data))
    assert _field_errors(soup, "cf_product") == ["Please fill in “Product”."]
    assert _field_errors(soup, "cf_serial_number") == ["Please fill in “Serial number”."]
    assert _field_errors(soup, "cf_severity") == ["Please fill in “Severity”."]
    assert _summary(soup) == [
        "Product: Please fill in “Product”.",
        "Serial number: Please fill in “Serial number”.",
        "Severity: Please fill in “Severity”.",
    ]
    # Optional custom fields left empty do not complain.
    assert _field_errors(soup, "cf_contact_e_mail") == []


def test_error_summary_links_to_every_problem(client, rich_department, site_settings):
    data = _valid(email="nope", cf_order_number="x")
    del data["subject"], data["cf_severity"]
    soup = _refused(client.post(rich_department.url, data))
    links = {a.get_text(" ", strip=True): a["href"] for a in soup.select("#wt-error-summary li a")}
    assert links == {
        "E-mail: Enter a valid email address.": "#id_email",
        "Subject: This field is required.": "#id_subject",
        "Order number: Enter a number.": "#id_cf_order_number",
        "Severity: Please fill in “Severity”.": "#id_cf_severity",
    }
    # Every link leads to an element on the page.
    for href in links.values():
        assert soup.find(id=href[1:]) is not None, href
    assert soup.select_one("#wt-error-summary")["role"] == "alert"


def test_a_failed_submission_keeps_everything_typed(client, rich_department, site_settings):
    typed = _valid(
        email="ann(at)example.com",  # the one mistake
        name="Ann <Visitor> & Co",
        subject="Screen “flickers”",
        message="Line one.\nLine two <b>bold?</b>",
        cf_product="Tablet",
        cf_steps_to_reproduce="Step 1\nStep 2",
        cf_contact_e_mail="boss@example.org",
        cf_order_number="42",
        cf_page_address="https://example.org/p",
        cf_under_warranty="on",
        cf_accessories=["Charger", "Cable"],
        cf_operating_systems=["Windows", "macOS"],
        cf_severity="Low",
        cf_purchase_date="2024-02-29",
        cf_failure_time="2024-03-01T14:30",
    )
    response = client.post(rich_department.url, typed)
    soup = _refused(response)
    form = soup.select_one("form.wt-ticket-form")

    def value(name):
        return form.find("input", attrs={"name": name})["value"]

    assert value("name") == "Ann <Visitor> & Co"
    assert value("email") == "ann(at)example.com"
    assert value("subject") == "Screen “flickers”"
    assert value("cf_serial_number") == "SN-1"
    assert value("cf_contact_e_mail") == "boss@example.org"
    assert value("cf_order_number") == "42"
    assert value("cf_page_address") == "https://example.org/p"
    assert value("cf_purchase_date") == "2024-02-29"
    assert value("cf_failure_time") == "2024-03-01T14:30"
    assert form.find("textarea", attrs={"name": "message"}).get_text().strip() == (
        "Line one.\nLine two <b>bold?</b>"
    )
    assert form.find("textarea", attrs={"name": "cf_steps_to_reproduce"}).get_text().strip() == (
        "Step 1\nStep 2"
    )
    selected = form.find("select", attrs={"name": "cf_product"}).find("option", selected=True)
    assert selected["value"] == "Tablet"
    multi = form.find("select", attrs={"name": "cf_operating_systems"})
    assert [o["value"] for o in multi.find_all("option", selected=True)] == ["Windows", "macOS"]
    assert form.find("input", attrs={"name": "cf_under_warranty"}).has_attr("checked")
    checked = form.find_all("input", attrs={"name": "cf_accessories", "checked": True})
    assert [i["value"] for i in checked] == ["Charger", "Cable"]
    radio = form.find_all("input", attrs={"name": "cf_severity", "checked": True})
    assert [i["value"] for i in radio] == ["Low"]
    # Markup typed by the visitor comes back escaped, never as markup.
    html = response.content.decode()
    assert "Line two &lt;b&gt;bold?&lt;/b&gt;" in html
    assert "<b>bold?</b>" not in html
    assert 'value="Ann &lt;Visitor&gt; &amp; Co"' in html


# --- logged-in customers ------------------------------------------------------------------


def test_logged_in_name_and_email_come_from_the_account(
    client, department, site_settings, customer
):
    client.force_login(customer)
    soup = _soup(client.get(department.url))
    name = soup.find("input", attrs={"name": "name"})
    email = soup.find("input", attrs={"name": "email"})
    assert name["value"] == "Alice" and name.has_attr("disabled")
    assert email["value"] == "alice@example.com" and email.has_attr("disabled")

    response = client.post(department.url, _basic(name="Mallory", email="mallory@evil.example"))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert ticket.customer_name == "Alice"
    assert ticket.customer_email == "alice@example.com"
    assert ticket.submitted_logged_in is True
    first = Message.objects.get(ticket=ticket)
    assert first.author == customer
    assert first.author_email == "alice@example.com"


def test_logged_in_user_without_name_fields_uses_the_account(
    client, department, site_settings, customer
):
    client.force_login(customer)
    data = _basic()
    del data["name"], data["email"]
    assert client.post(department.url, data).status_code == 302
    assert Ticket.objects.get().customer_email == "alice@example.com"


def test_login_only_department_turns_anonymous_visitors_to_the_login(
    client, helpdesk, site_settings, settings, customer
):
    dept = factories.make_department(
        helpdesk, title="Billing", prefix="BIL", submitters=DepartmentPage.Submitters.LOGGED_IN
    )
    response = client.get(dept.url)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL}?next={dept.url}"

    response = client.post(dept.url, _basic())
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    assert Ticket.objects.count() == 0

    client.force_login(customer)
    assert client.get(dept.url).status_code == 200
    assert client.post(dept.url, _basic()).status_code == 302
    assert Ticket.objects.get().customer == customer


# --- attachments --------------------------------------------------------------------------


def test_allowed_file_is_saved_with_hash_size_and_sniffed_type(client, department, site_settings):
    png = factories.png_bytes()
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    files = [
        # What the browser claims is ignored; the bytes decide.
        factories.upload("Screen Shot.PNG", png, "application/octet-stream"),
        factories.upload("invoice.pdf", pdf, "text/html"),
    ]
    response = client.post(department.url, _basic(attachments=files))
    assert response.status_code == 302, _summary(_soup(response))
    attachments = list(Attachment.objects.order_by("pk"))
    assert [a.original_name for a in attachments] == ["Screen Shot.PNG", "invoice.pdf"]
    shot, invoice = attachments
    assert shot.content_type == "image/png"
    assert shot.size == len(png)
    assert shot.sha256 == hashlib.sha256(png).hexdigest()
    assert invoice.content_type == "application/pdf"
    assert invoice.sha256 == hashlib.sha256(pdf).hexdigest()
    with shot.file.open("rb") as handle:
        assert handle.read() == png
    # Stored under a random name, not the visitor's.
    assert "Screen" not in shot.file.name
    assert shot.message.ticket == Ticket.objects.get()


def _attachment_errors(response):
    return _field_errors(_refused(response), "attachments")


def test_disallowed_extension_is_refused(client, department, site_settings):
    response = client.post(
        department.url, _basic(attachments=[factories.upload("backup.rar", b"Rar!\x1a\x07\x00")])
    )
    assert _attachment_errors(response) == ["“backup.rar”: files of this type are not accepted."]
    assert Attachment.objects.count() == 0


def test_too_big_file_is_refused(client, helpdesk, site_settings):
    dept = factories.make_department(
        helpdesk, title="Small files", prefix="SMF", max_attachment_mb=1
    )
    big = factories.upload("big.log", b"x" * (MB + MB // 2))
    assert _attachment_errors(client.post(dept.url, _basic(attachments=[big]))) == [
        "“big.log” is larger than 1.0\xa0MB."
    ]
    # Just under the limit is fine.
    ok = factories.upload("ok.log", b"x" * (MB - 1))
    assert client.post(dept.url, _basic(attachments=[ok])).status_code == 302


def test_too_many_files_are_refused(client, helpdesk, site_settings):
    dept = factories.make_department(helpdesk, title="Few files", prefix="FEW", max_attachments=2)
    files = [factories.upload(f"log{n}.txt", b"line\n") for n in range(3)]
    assert _attachment_errors(client.post(dept.url, _basic(attachments=files))) == [
        "You can attach at most 2 files."
    ]


def test_too_many_files_against_the_site_default(client, department, site_settings):
    files = [
        factories.upload(f"log{n}.txt", b"line\n") for n in range(site_settings.max_attachments + 1)
    ]
    assert _attachment_errors(client.post(department.url, _basic(attachments=files))) == [
        f"You can attach at most {site_settings.max_attachments} files."
    ]


def test_empty_file_is_refused(client, department, site_settings):
    errors = _attachment_errors(
        client.post(department.url, _basic(attachments=[factories.upload("empty.txt", b"")]))
    )
    assert len(errors) == 1
    assert "empty" in errors[0]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"just some text, not an image\n"),
        ("report.pdf", None),  # a PNG under a PDF's name
        ("notes.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("archive.zip", b"PK\x03\x04 truncated and broken"),
    ],
)
def test_content_must_match_the_extension(client, department, site_settings, name, content):
    content = content if content is not None else factories.png_bytes()
    errors = _attachment_errors(
        client.post(department.url, _basic(attachments=[factories.upload(name, content)]))
    )
    assert errors == [f"“{name}”: the content does not match its file type."]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<html><body>hi</body></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
    ],
)
def test_html_and_svg_are_refused_even_when_listed(client, helpdesk, site_settings, name, content):
    dept = factories.make_department(
        helpdesk, title="Web team", prefix="WEB", allowed_extensions="html svg txt"
    )
    soup = _soup(client.get(dept.url))
    assert soup.find("input", attrs={"name": "attachments"})["accept"] == ".txt"
    errors = _attachment_errors(
        client.post(dept.url, _basic(attachments=[factories.upload(name, content)]))
    )
    assert errors == [f"“{name}”: files of this type are not accepted."]


def test_attachments_can_be_turned_off(client, helpdesk, site_settings):
    dept = factories.make_department(helpdesk, title="No files", prefix="NOF", max_attachments=0)
    soup = _soup(client.get(dept.url))
    assert soup.find("input", attrs={"name": "attachments"}) is None
    # A file sent anyway is not stored.
    response = client.post(dept.url, _basic(attachments=[factories.upload()]))
    assert response.status_code == 302
    assert Attachment.objects.count() == 0


def test_failed_form_says_files_must_be_chosen_again(client, department, site_settings):
    note = "Please choose your attachments again."
    data = _basic(attachments=[factories.upload("log.txt", b"fine\n")])
    del data["subject"]
    soup = _refused(client.post(department.url, data))
    warning = soup.select_one(".wt-message--warning")
    assert warning is not None and note in warning.get_text()
    # No files sent, no note.
    data = _basic()
    del data["subject"]
    assert note not in client.post(department.url, data).content.decode()


# --- captcha: honeypot and fill time -----------------------------------------------------


def _honeypot(**values):
    return factories.site_settings(captcha_mode="honeypot", **values)


def _started_seconds_ago(seconds):
    with mock.patch("wagtail_tickets.captcha.time.time", return_value=time.time() - seconds):
        return captcha.signed_start()


def test_honeypot_form_carries_its_fields(client, department, site_settings):
    _honeypot()
    soup = _soup(client.get(department.url))
    trap = soup.find("input", attrs={"name": "website"})
    assert trap is not None
    assert trap.find_parent(class_="wt-hp")["aria-hidden"] == "true"
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off"
    started = soup.find("input", attrs={"name": "form_started", "type": "hidden"})
    assert started is not None and started["value"]
    assert soup.find(class_="g-recaptcha") is None


def test_honeypot_accepts_a_real_visitor(client, department, site_settings):
    _honeypot(min_fill_seconds=0)
    started = _soup(client.get(department.url)).find(attrs={"name": "form_started"})["value"]
    response = client.post(department.url, _basic(form_started=started, website=""))
    assert response.status_code == 302
    assert Ticket.objects.count() == 1


def test_honeypot_accepts_an_old_enough_start(client, department, site_settings):
    _honeypot(min_fill_seconds=5)
    response = client.post(department.url, _basic(form_started=_started_seconds_ago(30)))
    assert response.status_code == 302
    assert Ticket.objects.count() == 1


def test_filled_honeypot_is_refused(client, department, site_settings):
    _honeypot(min_fill_seconds=0)
    data = _basic(form_started=_started_seconds_ago(30), website="http://spam.example")
    soup = _refused(client.post(department.url, data))
    assert "Your message looks automated and was not sent." in _summary(soup)


@pytest.mark.parametrize(
    "started",
    [
        None,  # missing
        "",
        "1700000000.0",  # unsigned
        signing.dumps(0.0, salt="some.other.salt"),  # signed for something else
        "forged:" + "a" * 20,
    ],
)
def test_missing_or_forged_start_is_refused(client, department, site_settings, started):
    _honeypot(min_fill_seconds=0)
    data = _basic()
    if started is not None:
        data["form_started"] = started
    soup = _refused(client.post(department.url, data))
    assert "The form has expired. Please send it again." in soup.get_text()
    # The visitor's text survives, and the retry carries a fresh start.
    assert soup.find("input", attrs={"name": "subject"})["value"] == "Cannot log in"


def test_start_older_than_a_day_is_refused(client, department, site_settings):
    _honeypot(min_fill_seconds=0)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 2 * 86400):
        old = captcha.signed_start()
    _refused(client.post(department.url, _basic(form_started=old)))


def test_too_fast_submission_is_refused(client, department, site_settings):
    _honeypot(min_fill_seconds=3)
    soup = _refused(client.post(department.url, _basic(form_started=_started_seconds_ago(1))))
    assert "The form was sent too quickly. Please check it and send it again." in soup.get_text()


def test_auto_mode_without_keys_is_a_honeypot(client, department, site_settings, settings):
    settings.RECAPTCHA_PUBLIC_KEY = ""
    settings.RECAPTCHA_PRIVATE_KEY = ""
    factories.site_settings(captcha_mode="auto", min_fill_seconds=0)
    soup = _soup(client.get(department.url))
    assert soup.find("input", attrs={"name": "website"}) is not None
    assert soup.find(class_="g-recaptcha") is None
    _refused(client.post(department.url, _basic()))  # no signed start
    response = client.post(department.url, _basic(form_started=_started_seconds_ago(10)))
    assert response.status_code == 302


def test_logged_in_users_skip_the_captcha(client, department, site_settings, customer):
    _honeypot(min_fill_seconds=60)
    client.force_login(customer)
    soup = _soup(client.get(department.url))
    assert soup.find("input", attrs={"name": "website"}) is None
    assert client.post(department.url, _basic()).status_code == 302


def test_captcha_for_logged_in_users_when_asked(client, department, site_settings, customer):
    _honeypot(min_fill_seconds=0, captcha_for_logged_in=True)
    client.force_login(customer)
    assert client.get(department.url).content.decode().count('name="website"') == 1
    _refused(client.post(department.url, _basic()))


# --- captcha: reCAPTCHA ----------------------------------------------------------------------


@pytest.fixture
def recaptcha_keys(settings):
    settings.RECAPTCHA_PUBLIC_KEY = "public-test-key"
    settings.RECAPTCHA_PRIVATE_KEY = "private-test-key"
    return settings


@pytest.mark.parametrize("mode", ["recaptcha", "auto"])
def test_recaptcha_accepts_a_verified_visitor(
    client, department, site_settings, recaptcha_keys, mode
):
    factories.site_settings(captcha_mode=mode)
    soup = _soup(client.get(department.url))
    widget = soup.find(class_="g-recaptcha")
    assert widget is not None and widget["data-sitekey"] == "public-test-key"
    assert soup.find("input", attrs={"name": "website"}) is None
    with mock.patch(
        "django_recaptcha.client.submit", return_value=RecaptchaResponse(is_valid=True)
    ) as submit:
        response = client.post(
            department.url, _basic(**{"g-recaptcha-response": "token-from-google"})
        )
    assert response.status_code == 302
    assert Ticket.objects.count() == 1
    submit.assert_called_once()
    assert submit.call_args.kwargs["recaptcha_response"] == "token-from-google"
    assert submit.call_args.kwargs["private_key"] == "private-test-key"


def test_recaptcha_refuses_a_failed_check(client, department, site_settings, recaptcha_keys):
    factories.site_settings(captcha_mode="recaptcha")
    with mock.patch(
        "django_recaptcha.client.submit",
        return_value=RecaptchaResponse(is_valid=False, error_codes=["invalid-input-response"]),
    ):
        soup = _refused(client.post(department.url, _basic(**{"g-recaptcha-response": "bad"})))
    assert "Error verifying reCAPTCHA, please try again." in soup.get_text()
    assert soup.find("input", attrs={"name": "subject"})["value"] == "Cannot log in"


def test_recaptcha_refuses_a_missing_token(client, department, site_settings, recaptcha_keys):
    factories.site_settings(captcha_mode="recaptcha")
    with mock.patch("django_recaptcha.client.submit") as submit:
        _refused(client.post(department.url, _basic()))
    submit.assert_not_called()


def test_recaptcha_mode_without_keys_falls_back_to_honeypot(
    client, department, site_settings, settings
):
    settings.RECAPTCHA_PUBLIC_KEY = ""
    settings.RECAPTCHA_PRIVATE_KEY = ""
    factories.site_settings(captcha_mode="recaptcha", min_fill_seconds=0)
    soup = _soup(client.get(department.url))
    assert soup.find("input", attrs={"name": "website"}) is not None
    _refused(client.post(department.url, _basic()))


# --- rate limit ---------------------------------------------------------------------------


RATE_MESSAGE = (
    "Too many tickets have been sent from your address in the last hour. Please try again later."
)


def test_anonymous_rate_limit_per_ip(client, department, site_settings):
    factories.site_settings(anonymous_tickets_per_hour=2)
    for n in range(2):
        response = client.post(
            department.url, _basic(subject=f"Try {n}"), REMOTE_ADDR="203.0.113.7"
        )
        assert response.status_code == 302
    response = client.post(department.url, _basic(subject="Try 3"), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429  # Too Many Requests, with the form to send later
    soup = _soup(response)
    assert RATE_MESSAGE in _summary(soup)
    assert soup.find("input", attrs={"name": "subject"})["value"] == "Try 3"
    assert Ticket.objects.count() == 2
    assert not Ticket.objects.filter(subject="Try 3").exists()

    # Someone else is not punished for it.
    response = client.post(department.url, _basic(subject="Other"), REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 302
    assert Ticket.objects.count() == 3


def test_rate_limit_only_counts_the_last_hour(client, department, site_settings):
    from datetime import timedelta

    from django.utils import timezone

    factories.site_settings(anonymous_tickets_per_hour=2)
    for _n in range(2):
        assert client.post(department.url, _basic(), REMOTE_ADDR="203.0.113.7").status_code == 302
    Ticket.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert client.post(department.url, _basic(), REMOTE_ADDR="203.0.113.7").status_code == 302


def test_logged_in_users_are_not_rate_limited(client, department, site_settings, customer):
    factories.site_settings(anonymous_tickets_per_hour=2)
    for _n in range(2):
        assert client.post(department.url, _basic(), REMOTE_ADDR="203.0.113.7").status_code == 302
    client.force_login(customer)
    for _n in range(3):
        assert client.post(department.url, _basic(), REMOTE_ADDR="203.0.113.7").status_code == 302
    assert Ticket.objects.filter(customer=customer).count() == 3


# --- the customer's reply form ---------------------------------------------------------------


def test_empty_reply_is_refused(client, ticket, site_settings, customer):
    client.force_login(customer)
    url = ticket.department.get_parent().url + f"tickets/{ticket.code}/"
    for body in ("", "   \n  "):
        response = client.post(url, {"action": "reply", "message": body})
        assert response.status_code == 400
        soup = _soup(response)
        assert _field_errors(soup, "message") == ["This field is required."]
        assert "Your reply: This field is required." in _summary(soup)
    ticket.refresh_from_db()
    assert ticket.message_count == 1
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_reply_with_a_bad_file_keeps_the_text(client, ticket, site_settings, customer):
    client.force_login(customer)
    url = ticket.department.get_parent().url + f"tickets/{ticket.code}/"
    response = client.post(
        url,
        {
            "action": "reply",
            "message": "Here is the log.",
            "attachments": [factories.upload("evil.html", b"<html></html>")],
        },
    )
    assert response.status_code == 400
    soup = _soup(response)
    assert _field_errors(soup, "attachments") == [
        "“evil.html”: files of this type are not accepted."
    ]
    assert soup.find("textarea", attrs={"name": "message"}).get_text().strip() == "Here is the log."
    assert Message.objects.filter(ticket=ticket).count() == 1
