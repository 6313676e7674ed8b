"""The analytics screens: who may see them, department visibility in screens and exports,
the filters, exports, the PDF, and a query count that does not grow with the data."""

import csv
import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.analytics.periods import today
from wagtail_tickets.models import Status

pytestmark = pytest.mark.django_db

SCREENS = ["overview", "agents", "departments", "ratings", "knowledge_base"]
#: A manager's screen: session, user, their own and group permissions, the filters'
#: choices, the figures (rollups, three percentile reads, the backlog, deflection), then
#: the admin chrome (locale, menu permissions, the open-ticket count).
CEILING = 20

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def url(screen, query="", results=False):
    name = f"helpdesk_analytics:{screen}{'_results' if results else ''}"
    return reverse(name) + (f"?{query}" if query else "")


def pdf_url(query=""):
    return reverse("helpdesk_analytics:overview_pdf") + (f"?{query}" if query else "")


def resolved():
    return Status.first_of_kind(Status.Kind.RESOLVED)


@pytest.fixture
def world(helpdesk):
    """Two departments with their own agents, tickets, replies and ratings."""
    north = factories.make_department(helpdesk, title="Northern desk", prefix="NOR")
    south = factories.make_department(helpdesk, title="Southern desk", prefix="SOU")
    nina = factories.make_agent("nina", departments=[north], first_name="Nina")
    sam = factories.make_agent("sam", departments=[south], first_name="Samwise")
    start = timezone.now() - timedelta(days=3)
    for department, agent, count, comment in (
        (north, nina, 3, "north comment"),
        (south, sam, 5, "=SOUTHSECRET()"),
    ):
        for n in range(count):
            ticket = factories.open_ticket(
                department, subject=f"{department.title} problem {n}", at=start
            )
            workflow.assign(ticket, agent)
            reply = workflow.post_reply(
                ticket,
                body="Answer",
                author=agent,
                by_staff=True,
                time_spent_minutes=10,
                at=start + timedelta(minutes=30 + n),
            )
            workflow.rate(reply, score=5 - n % 5, comment=comment, at=start + timedelta(hours=2))
            if n % 2 == 0:
                workflow.change_status(ticket, resolved(), at=start + timedelta(hours=5))
    return {"north": north, "south": south, "nina": nina, "sam": sam}


@pytest.fixture
def manager(db):
    return factories.make_manager(
        "manager", codenames=["view_analytics", "view_all_departments"], first_name="Mona"
    )


@pytest.fixture
def north_manager(world):
    return factories.make_manager(
        "northboss", codenames=["view_analytics"], departments=[world["north"]]
    )


def kpis(response):
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return {
        div.find("dt").get_text(strip=True): div.find("dd").get_text(strip=True)
        for div in soup.select(".wt-kpis > div")
    }


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def pdf_text(response, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


# --- who may see them --------------------------------------------------------------------


@pytest.mark.parametrize("screen", SCREENS)
def test_agents_without_the_permission_get_403(client, world, screen):
    client.force_login(world["nina"])
    for target in (url(screen), url(screen, results=True), url(screen, "export=csv")):
        assert client.get(target).status_code == 403
    assert client.get(pdf_url()).status_code == 403


def test_admin_users_without_the_permission_get_403_and_no_menu_item(client, world):
    editor = factories.make_admin_user("editor")
    client.force_login(editor)
    assert client.get(url("overview")).status_code == 403
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert url("overview") not in home


def test_anonymous_and_customers_are_sent_to_log_in(client, world, customer):
    assert client.get(url("overview")).status_code == 302
    client.force_login(customer)
    response = client.get(url("ratings", "export=csv"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("screen", SCREENS)
def test_managers_see_every_screen_and_export(client, world, manager, screen):
    client.force_login(manager)
    for query in ("", "period=7", "period=365", "export=csv", "export=xlsx"):
        assert client.get(url(screen, query)).status_code == 200, query
    assert client.get(url(screen, results=True)).status_code == 200


def test_menu_item_for_holders_of_the_permission(client, manager):
    client.force_login(manager)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert url("overview") in home and "Analytics" in home


# --- figures and department visibility ---------------------------------------------------


def test_overview_counts_all_departments_for_a_manager(client, world, manager):
    client.force_login(manager)
    figures = kpis(client.get(url("overview")))
    assert figures["New tickets"] == "8"
    assert figures["Resolved tickets"] == "5"
    assert figures["Backlog now"] == "3"
    assert figures["Ratings"] == "8"


def test_a_department_limited_manager_sees_only_theirs(client, world, north_manager):
    client.force_login(north_manager)
    south = world["south"]
    for screen in SCREENS:
        for query in ("", f"department={south.pk}", f"agent={world['sam'].pk}"):
            page = client.get(url(screen, query)).content.decode()
            assert "Southern desk" not in page, (screen, query)
            assert "SOUTHSECRET" not in page and "Samwise" not in page, (screen, query)
    assert kpis(client.get(url("overview")))["New tickets"] == "3"
    assert kpis(client.get(url("overview", f"department={south.pk}")))["New tickets"] == "3"
    for screen in SCREENS:
        for export in ("csv", "xlsx"):
            response = client.get(url(screen, f"export={export}"))
            rows = csv_rows(response) if export == "csv" else xlsx_rows(response)
            flat = " ".join(str(cell) for row in rows for cell in row)
            assert "Southern" not in flat and "SOUTHSECRET" not in flat and "Samwise" not in flat


@needs_pdftotext
def test_the_pdf_of_a_limited_manager_holds_only_their_figures(
    client, world, north_manager, tmp_path
):
    client.force_login(north_manager)
    response = client.get(pdf_url("period=30"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    text = pdf_text(response, tmp_path)
    assert "Helpdesk report" in text and "your departments" in text
    new = next(line for line in text.splitlines() if line.strip().startswith("New tickets"))
    assert new.split()[-1] == "3"


@needs_pdftotext
def test_the_pdf_has_the_overview_and_its_charts(client, world, manager, tmp_path):
    client.force_login(manager)
    response = client.get(pdf_url(f"department={world['south'].pk}"))
    text = pdf_text(response, tmp_path)
    for words in (
        "New tickets",
        "Median first response",
        "Satisfaction",
        "New and resolved tickets, per day",
        "Backlog",
        "Southern desk",
    ):
        assert words in text, words
    assert b"<svg" not in response.content  # drawn, not embedded as markup


def test_agents_screen_shows_each_agents_work(client, world, manager):
    client.force_login(manager)
    response = client.get(url("agents", "export=csv"))
    rows = {row[0]: row for row in csv_rows(response)[1:]}
    nina = rows[world["nina"].get_full_name()]
    # agent, replies, tickets answered, resolved, time, open now, median first response,
    # ratings, average, satisfaction
    assert nina[1:8] == ["3", "3", "2", "30", "1", "31", "3"]
    assert nina[8] == "4.0" and nina[9] == "66.7"


def test_departments_screen_has_percentiles(client, world, manager):
    client.force_login(manager)
    rows = {row[0]: row for row in csv_rows(client.get(url("departments", "export=csv")))[1:]}
    south = rows["Southern desk"]
    # new, resolved, backlog, first response median and p90, resolution median and p90
    assert south[1:8] == ["5", "3", "2", "32", "34", "300", "300"]


def test_ratings_screen_lists_comments_and_filters_by_score(client, world, manager):
    client.force_login(manager)
    page = client.get(url("ratings")).content.decode()
    assert "north comment" in page
    table = csv_rows(client.get(url("ratings", "export=csv&score=unhappy")))
    assert {row[1] for row in table[1:]} <= {"1", "2"} and len(table) == 3
    assert table[1][2] == "'=SOUTHSECRET()", "formula cells are neutralised"
    xlsx = xlsx_rows(client.get(url("ratings", "export=xlsx&score=5")))
    assert [row[1] for row in xlsx[1:]] == [5, 5]


def test_agent_filter_limits_the_figures(client, world, manager):
    client.force_login(manager)
    figures = kpis(client.get(url("overview", f"agent={world['sam'].pk}")))
    assert figures["New tickets"] == "5" and figures["Ratings"] == "5"


def test_custom_dates_in_the_sites_time_zone(client, world, manager, settings):
    settings.TIME_ZONE = "America/New_York"
    client.force_login(manager)
    day = today()
    long_ago = (day - timedelta(days=200)).isoformat()
    empty = kpis(client.get(url("overview", f"period=custom&start={long_ago}&end={long_ago}")))
    assert empty["New tickets"] == "0"
    recent = (day - timedelta(days=10)).isoformat()
    full = kpis(client.get(url("overview", f"period=custom&start={recent}&end={day}")))
    assert full["New tickets"] == "8"


@pytest.mark.parametrize(
    "query",
    [
        "period=5",
        "period=custom",
        "period=custom&start=2026-13-45&end=x",
        "period=custom&start=1900-01-01&end=9999-12-31",
        "period=custom&start=2030-01-01&end=2020-01-01",
        "department=x&agent=99999999999999999999999",
        "department=-1&agent=%00",
        "score=9&p=abc",
        "ordering=%27",
        "start=" + "9" * 10000,
    ],
)
@pytest.mark.parametrize("screen", SCREENS)
def test_odd_filters_never_fail(client, world, manager, screen, query):
    client.force_login(manager)
    assert client.get(url(screen, query)).status_code == 200


# --- speed -------------------------------------------------------------------------------


@pytest.mark.parametrize("screen", SCREENS)
def test_query_count_is_constant(client, world, manager, screen, django_assert_max_num_queries):
    client.force_login(manager)
    client.get(url(screen, "period=365"))  # warm per-process caches
    with django_assert_max_num_queries(CEILING) as few:
        assert client.get(url(screen, "period=365")).status_code == 200
    agent = factories.make_agent("extra", departments=[world["north"]])
    for n in range(6):
        ticket = factories.open_ticket(world["north"], subject=f"More {n}")
        reply = factories.staff_reply(ticket, agent, "Done.")
        workflow.rate(reply, score=1 + n % 5)
        workflow.change_status(ticket, resolved())
    with django_assert_max_num_queries(CEILING) as more:
        assert client.get(url(screen, "period=365")).status_code == 200
    assert len(more.captured_queries) == len(few.captured_queries)
