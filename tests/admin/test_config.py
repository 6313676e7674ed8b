"""Helpdesk menu and configuration: statuses, priorities, staff, saved searches, policies.

Roles: a superuser; a manager (a group holding the configuration models' permissions);
an agent (a desk profile and admin access, nothing else); anonymous visitors.
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import admin_menu
from wagtail.permissions import policy_registry

from tests import factories
from wagtail_tickets import workflow
from wagtail_tickets.admin import config
from wagtail_tickets.admin.config import format_minutes, ticket_permission_policy
from wagtail_tickets.admin.menu import HelpdeskViewSetGroup, desk_profile, open_ticket_count
from wagtail_tickets.models import (
    Priority,
    SavedSearch,
    StaffMember,
    Status,
    Ticket,
)
from wagtail_tickets.models.tickets import status_ids

pytestmark = pytest.mark.django_db

CONFIG_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("status", "priority", "staffmember")
    for action in ("add", "change", "delete")
]


@pytest.fixture
def manager(db):
    return factories.make_manager("manager", codenames=CONFIG_PERMISSIONS)


@pytest.fixture
def editor(db):
    """An admin user who is not in the desk at all."""
    return factories.make_manager("editor")


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


def assert_denied(response):
    """Wagtail answers a PermissionDenied in the admin with a redirect home (or a 403)."""
    assert response.status_code in (302, 403), response.status_code
    if response.status_code == 302:
        assert response["Location"] == reverse("wagtailadmin_home")


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def helpdesk_menu(user):
    # Menus collect their items on first use; viewsets register theirs when the admin's
    # URLconf is built, so load it first.
    reverse("wagtailadmin_home")
    request = RequestFactory().get("/admin/")
    request.user = user
    items = [item for item in admin_menu.menu_items_for_request(request)]
    group = next((item for item in items if item.name == HelpdeskViewSetGroup.menu_name), None)
    return request, group


def helpdesk_menu_names(user):
    request, group = helpdesk_menu(user)
    if group is None:
        return set()
    return {item.name for item in group.menu.menu_items_for_request(request)}


def status_url(name, *args):
    return reverse(f"helpdesk_statuses:{name}", args=args)


def priority_url(name, *args):
    return reverse(f"helpdesk_priorities:{name}", args=args)


def staff_url(name, *args):
    return reverse(f"helpdesk_staff:{name}", args=args)


def search_url(name, *args):
    return reverse(f"helpdesk_saved_searches:{name}", args=args)


def status_data(**overrides):
    return {"name": "On hold", "kind": "waiting", "colour": "#123abc", **overrides}


def priority_data(**overrides):
    return {
        "name": "Critical",
        "colour": "#aa0000",
        "first_response_minutes": "15",
        "resolution_minutes": "240",
        **overrides,
    }


# --- menu ---------------------------------------------------------------------------------


def test_manager_sees_configuration_in_the_helpdesk_menu(manager, superuser):
    for user in (manager, superuser):
        names = helpdesk_menu_names(user)
        assert {"helpdesk_statuses", "helpdesk_priorities", "helpdesk_staff"} <= names
        assert "helpdesk_departments" in names


def test_agent_menu_hides_configuration_but_shows_desk_items(agent):
    names = helpdesk_menu_names(agent)
    assert not names & {"helpdesk_statuses", "helpdesk_priorities", "helpdesk_staff"}
    assert {"helpdesk_saved_searches", "helpdesk_my_profile", "helpdesk_departments"} <= names


def test_editor_without_desk_profile_sees_only_the_departments_link(editor):
    names = helpdesk_menu_names(editor)
    assert "helpdesk_departments" in names
    assert not names & {"helpdesk_saved_searches", "helpdesk_my_profile", "helpdesk_statuses"}


def test_menu_name_shares_no_prefix_with_other_top_level_items(superuser):
    # The sidebar opens every submenu whose name starts with the open one's name.
    request, group = helpdesk_menu(superuser)
    others = [item.name for item in admin_menu.registered_menu_items if item is not group]
    assert "help" in others
    for name in others:
        assert not group.name.startswith(name) and not name.startswith(group.name), name


def test_menu_renders_in_the_admin_page(client, manager):
    response = login(client, manager).get(reverse("wagtailadmin_home"))
    content = response.content.decode()
    assert "helpdesk_statuses" in content
    assert "helpdesk_departments" in content


def test_departments_link_opens_the_support_centre_in_the_explorer(client, agent, helpdesk):
    response = login(client, agent).get(reverse("wagtail_tickets_departments"))
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_explore", args=[helpdesk.pk])


def test_departments_link_without_a_support_centre_opens_the_root(client, superuser):
    response = login(client, superuser).get(reverse("wagtail_tickets_departments"))
    assert response["Location"] == reverse("wagtailadmin_explore_root")


def test_departments_link_needs_admin_access(client):
    assert_login_redirect(client.get(reverse("wagtail_tickets_departments")))


# --- open-ticket badge --------------------------------------------------------------------


def test_open_ticket_count_is_mine_plus_unassigned_in_my_departments(
    agent, other_agent, department, customer, django_assert_num_queries
):
    other_department = other_agent.helpdesk_profile.departments.get()
    mine = factories.open_ticket(department, customer=customer, subject="mine")
    workflow.assign(mine, agent)
    factories.open_ticket(department, customer=customer, subject="unassigned")
    someone_elses = factories.open_ticket(department, customer=customer, subject="theirs")
    workflow.assign(someone_elses, factories.make_agent("third", departments=[department]))
    closed = factories.open_ticket(department, customer=customer, subject="closed")
    workflow.close(closed)
    factories.open_ticket(other_department, customer=customer, subject="elsewhere")

    agent = type(agent).objects.get(pk=agent.pk)
    # What every admin request has already loaded: the user's permissions (the admin
    # access check) and desk profile with its departments (menu visibility).
    assert agent.has_perm("wagtailadmin.access_admin")
    assert desk_profile(agent) is not None
    # ...and the ids of the active statuses, cached once for every request.
    status_ids(Status.ACTIVE_KINDS)
    with django_assert_num_queries(1):
        assert open_ticket_count(agent) == 2
        assert open_ticket_count(agent) == 2  # cached on the user for the request


def test_superuser_without_departments_counts_every_unassigned_ticket(
    superuser, department, other_agent, customer
):
    other_department = other_agent.helpdesk_profile.departments.get()
    factories.open_ticket(department, customer=customer)
    factories.open_ticket(other_department, customer=customer)
    assert open_ticket_count(superuser) == 2


def test_count_for_users_outside_the_desk_is_zero_without_counting(
    editor, ticket, django_assert_num_queries
):
    assert editor.has_perm("wagtailadmin.access_admin")
    with django_assert_num_queries(1):  # the profile lookup; no COUNT
        assert open_ticket_count(editor) == 0


def test_admin_pages_count_once_whatever_the_number_of_tickets(
    client, agent, department, customer, django_assert_max_num_queries
):
    login(client, agent)
    url = reverse("helpdesk_saved_searches:index")
    factories.open_ticket(department, customer=customer)
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for n in range(15):
        factories.open_ticket(department, customer=customer, subject=f"More {n}")
    with django_assert_max_num_queries(40) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    counts = [q["sql"] for q in many.captured_queries if "COUNT(" in q["sql"].upper()]
    badge = [sql for sql in counts if "wagtail_tickets_ticket" in sql]
    assert len(badge) == 1
    assert "Helpdesk (16)" in response.content.decode()


def test_helpdesk_menu_label_carries_the_count(agent, ticket):
    request, group = helpdesk_menu(agent)
    component = group.render_component(request)
    assert component.label == "Helpdesk (1)"
    assert component.attrs["data-wt-open-tickets"] == "1"
    # The item's own attrs, shared by all requests, are untouched.
    assert "data-wt-open-tickets" not in group.attrs


def test_helpdesk_menu_label_without_tickets_has_no_count(agent):
    request, group = helpdesk_menu(agent)
    assert group.render_component(request).label == "Helpdesk"


# --- statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        lambda: status_url("index"),
        lambda: status_url("add"),
        lambda: status_url("edit", Status.objects.first().pk),
        lambda: status_url("delete", Status.objects.first().pk),
        lambda: priority_url("index"),
        lambda: priority_url("add"),
        lambda: priority_url("edit", Priority.objects.first().pk),
        lambda: priority_url("delete", Priority.objects.first().pk),
        lambda: staff_url("index"),
        lambda: staff_url("add"),
    ],
)
def test_agent_is_refused_configuration_and_anonymous_must_log_in(client, agent, url):
    assert_login_redirect(client.get(url()))
    assert_denied(login(client, agent).get(url()))


@pytest.mark.parametrize("role", ["manager", "superuser"])
def test_status_listing_shows_colour_kind_and_default(client, role, request):
    user = request.getfixturevalue(role)
    response = login(client, user).get(status_url("index"))
    assert response.status_code == 200
    content = response.content.decode()
    for status in Status.objects.all():
        assert status.colour in content
    assert "Waiting for customer" in content
    assert 'data-w-orderable-url-value="' in content  # drag ordering on
    assert status_url("add") in content


def test_manager_creates_a_status_placed_last(client, manager):
    response = login(client, manager).post(status_url("add"), status_data())
    assert response.status_code == 302
    created = Status.objects.get(name="On hold")
    assert created.colour == "#123abc"
    assert created.sort_order == Status.objects.exclude(pk=created.pk).count()
    assert list(Status.objects.values_list("name", flat=True))[-1] == "On hold"


@pytest.mark.parametrize("colour", ["red", "#12345", "#12345g", "123456"])
def test_status_colour_must_be_hex(client, manager, colour):
    response = login(client, manager).post(status_url("add"), status_data(colour=colour))
    assert response.status_code == 200
    assert "colour" in response.context["form"].errors
    assert not Status.objects.filter(name="On hold").exists()


def test_status_form_uses_a_colour_input(client, manager):
    response = login(client, manager).get(status_url("add"))
    assert 'type="color"' in response.content.decode()


def test_making_a_status_default_undefaults_the_other(client, manager):
    open_status = Status.objects.get(kind="open")
    response = login(client, manager).post(
        status_url("edit", open_status.pk),
        status_data(name="Open", kind="open", colour="#0891b2", is_default="on"),
    )
    assert response.status_code == 302
    assert list(Status.objects.filter(is_default=True)) == [open_status]


def test_new_status_can_be_created_as_default(client, manager):
    login(client, manager).post(status_url("add"), status_data(kind="new", is_default="on"))
    assert Status.objects.get(is_default=True).name == "On hold"


def test_the_default_status_cannot_be_unset_directly(client, manager):
    default = Status.objects.get(is_default=True)
    response = login(client, manager).post(
        status_url("edit", default.pk),
        status_data(name=default.name, kind=default.kind, colour=default.colour),
    )
    assert response.status_code == 200
    assert "is_default" in response.context["form"].errors
    assert Status.objects.get(pk=default.pk).is_default


def test_an_archived_status_cannot_be_the_default(client, manager):
    response = login(client, manager).post(
        status_url("add"), status_data(kind="closed", is_default="on")
    )
    assert response.status_code == 200
    assert "is_default" in response.context["form"].errors


def test_changing_the_only_status_of_a_kind_is_refused(client, manager):
    closed = Status.objects.get(kind="closed")
    response = login(client, manager).post(
        status_url("edit", closed.pk), status_data(name="Closed", kind="open")
    )
    assert response.status_code == 200
    assert "kind" in response.context["form"].errors
    assert Status.objects.get(pk=closed.pk).kind == "closed"


def test_deleting_a_status_in_use_is_refused_with_the_ticket_count(client, manager, ticket):
    factories.open_ticket(ticket.department, subject="second")
    status = ticket.status
    # Make it deletable otherwise: not the default and not the only one of its kind.
    Status.objects.create(name="Brand new", kind="new", sort_order=99, is_default=False)
    login(client, manager).post(
        status_url("edit", Status.objects.get(kind="open").pk),
        status_data(name="Open", kind="open", colour="#0891b2", is_default="on"),
    )

    page = client.get(status_url("delete", status.pk))
    assert page.status_code == 200
    content = page.content.decode()
    assert "2 tickets use this status" in content
    assert "Yes, delete" not in content

    response = client.post(status_url("delete", status.pk), follow=True)
    assert Status.objects.filter(pk=status.pk).exists()
    text = response.content.decode()
    assert "was not deleted" in text and "2 tickets use this status" in text


def test_deleting_the_default_or_last_of_a_kind_is_refused(client, manager):
    login(client, manager)
    default = Status.objects.get(is_default=True)
    client.post(status_url("delete", default.pk))
    assert Status.objects.filter(pk=default.pk).exists()
    closed = Status.objects.get(kind="closed")
    page = client.get(status_url("delete", closed.pk)).content.decode()
    assert "the helpdesk needs one" in page
    client.post(status_url("delete", closed.pk))
    assert Status.objects.filter(pk=closed.pk).exists()


def test_deleting_an_unused_status(client, manager):
    extra = Status.objects.create(name="On hold", kind="waiting", sort_order=9)
    login(client, manager)
    assert "Yes, delete" in client.get(status_url("delete", extra.pk)).content.decode()
    response = client.post(status_url("delete", extra.pk))
    assert response.status_code == 302
    assert not Status.objects.filter(pk=extra.pk).exists()


def test_agent_cannot_delete_or_reorder_statuses(client, agent):
    status = Status.objects.get(kind="open")
    login(client, agent)
    assert_denied(client.post(status_url("delete", status.pk)))
    assert_denied(client.post(status_url("reorder", status.pk) + "?position=0"))
    assert Status.objects.filter(pk=status.pk, sort_order=1).exists()


def test_manager_reorders_statuses_by_dragging(client, manager):
    closed = Status.objects.get(kind="closed")
    response = login(client, manager).post(status_url("reorder", closed.pk) + "?position=0")
    assert response.status_code == 200
    assert Status.objects.first() == closed
    assert list(Status.objects.values_list("kind", flat=True)) == [
        "closed",
        "new",
        "open",
        "waiting",
        "resolved",
    ]


def test_status_changes_are_in_the_audit_log(client, manager):
    from wagtail.models import ModelLogEntry

    login(client, manager).post(status_url("add"), status_data())
    created = Status.objects.get(name="On hold")
    assert ModelLogEntry.objects.filter(
        object_id=str(created.pk), action="wagtail.create", user=manager
    ).exists()


# --- priorities ---------------------------------------------------------------------------


def test_format_minutes():
    assert format_minutes(None) == ""
    assert format_minutes(0) == "0 min"
    assert format_minutes(30) == "30 min"
    assert format_minutes(90) == "1 h 30 min"
    assert format_minutes(8 * 60) == "8 h"
    assert format_minutes(3 * 24 * 60) == "3 d"
    assert format_minutes(24 * 60 + 5) == "1 d 5 min"


def test_priority_listing_shows_sla_targets(client, manager):
    content = login(client, manager).get(priority_url("index")).content.decode()
    assert "8 h" in content  # Normal: first response
    assert "3 d" in content  # Normal: resolution
    assert "30 min" in content  # Urgent
    assert "#b91c1c" in content  # Urgent's colour since migration 0015


def test_manager_creates_and_edits_a_priority(client, manager):
    login(client, manager)
    assert client.post(priority_url("add"), priority_data()).status_code == 302
    critical = Priority.objects.get(name="Critical")
    assert (critical.first_response_minutes, critical.resolution_minutes) == (15, 240)
    assert critical.sort_order == 4
    client.post(
        priority_url("edit", critical.pk),
        priority_data(is_default="on", first_response_minutes=""),
    )
    critical.refresh_from_db()
    assert critical.first_response_minutes is None
    assert list(Priority.objects.filter(is_default=True)) == [critical]


def test_priority_colour_is_validated(client, manager):
    response = login(client, manager).post(priority_url("add"), priority_data(colour="blue"))
    assert "colour" in response.context["form"].errors


def test_deleting_a_priority_in_use_is_refused(client, manager, ticket):
    priority = ticket.priority
    login(client, manager)
    low = Priority.objects.get(name="Low")
    client.post(
        priority_url("edit", low.pk),
        priority_data(name="Low", colour="#6b7280", is_default="on"),
    )
    assert (
        "1 ticket uses this priority"
        in client.get(priority_url("delete", priority.pk)).content.decode()
    )
    client.post(priority_url("delete", priority.pk))
    assert Priority.objects.filter(pk=priority.pk).exists()


def test_deleting_a_departments_default_priority_is_refused(client, manager, helpdesk):
    urgent = Priority.objects.get(name="Urgent")
    factories.make_department(helpdesk, title="VIP", prefix="VIP", default_priority=urgent)
    login(client, manager)
    page = client.get(priority_url("delete", urgent.pk)).content.decode()
    assert "1 department uses this priority as its default" in page
    client.post(priority_url("delete", urgent.pk))
    assert Priority.objects.filter(pk=urgent.pk).exists()


def test_deleting_an_unused_priority(client, manager):
    urgent = Priority.objects.get(name="Urgent")
    response = login(client, manager).post(priority_url("delete", urgent.pk))
    assert response.status_code == 302
    assert not Priority.objects.filter(pk=urgent.pk).exists()


def test_delete_race_with_a_new_ticket_is_caught(client, manager, department, monkeypatch):
    urgent = Priority.objects.get(name="Urgent")
    login(client, manager)
    monkeypatch.setattr(config.PriorityDeleteView, "get_refusals", lambda self: [])
    factories.open_ticket(department, priority=urgent)
    response = client.post(priority_url("delete", urgent.pk), follow=True)
    assert Priority.objects.filter(pk=urgent.pk).exists()
    assert "1 ticket uses this priority" in response.content.decode()


def test_manager_reorders_priorities(client, manager):
    urgent = Priority.objects.get(name="Urgent")
    login(client, manager).post(priority_url("reorder", urgent.pk) + "?position=0")
    assert Priority.objects.first() == urgent


def test_model_permissions_are_enough_per_model(client):
    only_statuses = factories.make_manager("statuses", codenames=["change_status"])
    login(client, only_statuses)
    assert client.get(status_url("index")).status_code == 200
    assert status_url("add") not in client.get(status_url("index")).content.decode()
    assert_denied(client.get(status_url("add")))
    assert_denied(client.get(priority_url("index")))
    assert helpdesk_menu_names(only_statuses) >= {"helpdesk_statuses"}
    assert "helpdesk_priorities" not in helpdesk_menu_names(only_statuses)


# --- staff --------------------------------------------------------------------------------


def test_staff_listing(client, manager, agent, department, django_assert_max_num_queries):
    login(client, manager)
    client.get(staff_url("index"))
    with django_assert_max_num_queries(30) as small:
        response = client.get(staff_url("index"))
    content = response.content.decode()
    assert "agent" in content and "Technical support" in content
    for n in range(8):
        factories.make_agent(f"extra{n}", departments=[department])
    with django_assert_max_num_queries(30) as large:
        client.get(staff_url("index"))
    assert len(large.captured_queries) == len(small.captured_queries)


def test_manager_adds_a_staff_member(client, manager, helpdesk, department):
    newcomer = factories.make_manager("newcomer")
    outsider = factories.make_user("outsider")  # no admin access
    login(client, manager)
    form = client.get(staff_url("add")).context["form"]
    choices = set(form.fields["user"].queryset)
    assert newcomer in choices
    assert outsider not in choices
    assert manager in choices
    response = client.post(
        staff_url("add"),
        {
            "user": newcomer.pk,
            "departments": [department.pk],
            "signature": "-- Newcomer",
            "available": "on",
            "notify_assigned": "on",
        },
    )
    assert response.status_code == 302
    profile = StaffMember.objects.get(user=newcomer)
    assert list(profile.departments.all()) == [department]
    assert profile.available and profile.notify_assigned and not profile.notify_new_tickets


def test_users_with_a_profile_are_not_offered_again(client, manager, agent):
    login(client, manager)
    form = client.get(staff_url("add")).context["form"]
    assert agent not in set(form.fields["user"].queryset)
    response = client.post(staff_url("add"), {"user": agent.pk})
    assert response.status_code == 200
    assert StaffMember.objects.filter(user=agent).count() == 1


def test_manager_changes_an_agents_departments(client, manager, agent, helpdesk, department):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    profile = agent.helpdesk_profile
    response = login(client, manager).post(
        staff_url("edit", profile.pk),
        {"user": agent.pk, "departments": [department.pk, sales.pk], "available": ""},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert set(profile.departments.all()) == {department, sales}
    assert not profile.available


def test_agent_cannot_edit_staff(client, agent):
    profile = agent.helpdesk_profile
    login(client, agent)
    assert_denied(client.get(staff_url("edit", profile.pk)))
    assert_denied(client.post(staff_url("edit", profile.pk), {"user": agent.pk}))
    assert_denied(client.post(staff_url("delete", profile.pk)))
    assert StaffMember.objects.filter(pk=profile.pk).exists()


# --- my desk profile ----------------------------------------------------------------------


def test_agent_edits_own_profile_but_not_departments(client, agent, department, helpdesk):
    sales = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    login(client, agent)
    page = client.get(reverse("wagtail_tickets_my_profile"))
    assert page.status_code == 200
    assert "Technical support" in page.content.decode()
    assert "departments" not in page.context["form"].fields
    response = client.post(
        reverse("wagtail_tickets_my_profile"),
        {
            "signature": "Kind regards, Agent",
            "available": "",
            "notify_new_tickets": "on",
            "departments": [sales.pk],
            "user": factories.make_user("someone").pk,
        },
    )
    assert response.status_code == 302
    profile = StaffMember.objects.get(user=agent)
    assert profile.signature == "Kind regards, Agent"
    assert not profile.available
    assert profile.notify_new_tickets and not profile.notify_assigned
    assert list(profile.departments.all()) == [department]


def test_profile_page_without_a_profile_sends_home(client, editor):
    response = login(client, editor).get(reverse("wagtail_tickets_my_profile"))
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")


def test_profile_page_needs_login(client):
    assert_login_redirect(client.get(reverse("wagtail_tickets_my_profile")))


def test_profile_is_offered_on_the_account_page(client, agent, editor):
    url = reverse("wagtail_tickets_my_profile")
    assert url in login(client, agent).get(reverse("wagtailadmin_account")).content.decode()
    assert url not in login(client, editor).get(reverse("wagtailadmin_account")).content.decode()


# --- saved searches -----------------------------------------------------------------------


@pytest.fixture
def searches(agent, other_agent):
    return {
        "mine": SavedSearch.objects.create(
            owner=agent, name="My urgent", query_string="priority=4"
        ),
        "mine_shared": SavedSearch.objects.create(
            owner=agent, name="Team queue", query_string="status=1", shared=True
        ),
        "theirs": SavedSearch.objects.create(owner=other_agent, name="Secret stuff"),
        "theirs_shared": SavedSearch.objects.create(
            owner=other_agent, name="Sales shared", shared=True
        ),
    }


def test_saved_searches_list_own_and_shared_only(client, agent, searches):
    response = login(client, agent).get(search_url("index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "My urgent" in content and "Team queue" in content and "Sales shared" in content
    assert "Secret stuff" not in content
    assert search_url("edit", searches["mine"].pk) in content
    assert search_url("edit", searches["theirs_shared"].pk) not in content
    assert search_url("delete", searches["theirs_shared"].pk) not in content


def test_saved_search_links_to_the_inbox(client, agent, searches):
    content = login(client, agent).get(search_url("index")).content.decode()
    assert reverse("helpdesk_inbox:index") + "?priority=4" in content


def test_owner_renames_and_shares_a_search(client, agent, searches):
    search = searches["mine"]
    response = login(client, agent).post(
        search_url("edit", search.pk), {"name": "Urgent ones", "shared": "on"}
    )
    assert response.status_code == 302
    search.refresh_from_db()
    assert (search.name, search.shared, search.query_string) == ("Urgent ones", True, "priority=4")


def test_another_agent_cannot_edit_or_delete_my_searches(client, other_agent, searches):
    login(client, other_agent)
    shared, private = searches["mine_shared"], searches["mine"]
    assert_denied(client.get(search_url("edit", shared.pk)))
    assert_denied(client.post(search_url("edit", shared.pk), {"name": "Hijacked"}))
    assert_denied(client.post(search_url("delete", shared.pk)))
    assert_denied(client.post(search_url("toggle_default", shared.pk)))
    assert client.get(search_url("edit", private.pk)).status_code == 404
    assert client.post(search_url("delete", private.pk)).status_code == 404
    assert SavedSearch.objects.filter(pk=shared.pk, name="Team queue").exists()
    assert SavedSearch.objects.filter(pk=private.pk).exists()


def test_owner_deletes_a_search(client, agent, searches):
    search = searches["mine"]
    response = login(client, agent).post(search_url("delete", search.pk))
    assert response.status_code == 302
    assert not SavedSearch.objects.filter(pk=search.pk).exists()


def test_one_default_per_owner(client, agent, other_agent, searches):
    theirs = searches["theirs"]
    theirs.is_default = True
    theirs.save()
    login(client, agent)
    client.post(search_url("toggle_default", searches["mine"].pk))
    assert SavedSearch.objects.get(pk=searches["mine"].pk).is_default
    client.post(search_url("toggle_default", searches["mine_shared"].pk))
    defaults = SavedSearch.objects.filter(is_default=True)
    assert set(defaults) == {searches["mine_shared"], theirs}
    # toggling again clears it
    client.post(search_url("toggle_default", searches["mine_shared"].pk))
    assert not SavedSearch.objects.filter(owner=agent, is_default=True).exists()


def test_default_through_the_edit_form(client, agent, searches):
    SavedSearch.objects.filter(pk=searches["mine"].pk).update(is_default=True)
    login(client, agent).post(
        search_url("edit", searches["mine_shared"].pk),
        {"name": "Team queue", "shared": "on", "is_default": "on"},
    )
    assert list(SavedSearch.objects.filter(owner=agent, is_default=True)) == [
        searches["mine_shared"]
    ]


def test_toggle_default_is_post_only(client, agent, searches):
    response = login(client, agent).get(search_url("toggle_default", searches["mine"].pk))
    assert response.status_code == 405


def test_saved_searches_need_a_desk_user(client, editor, searches):
    assert_login_redirect(client.get(search_url("index")))
    assert_denied(login(client, editor).get(search_url("index")))
    assert "helpdesk_saved_searches" not in helpdesk_menu_names(editor)


def test_saved_searches_have_no_add_page(client, agent):
    content = login(client, agent).get(search_url("index")).content.decode()
    assert "/admin/helpdesk/saved-searches/new/" not in content
    assert client.get("/admin/helpdesk/saved-searches/new/").status_code == 404


# --- permissions --------------------------------------------------------------------------


def registered_permissions():
    permissions = Permission.objects.none()
    for fn in hooks.get_hooks("register_permissions"):
        permissions = permissions | fn()
    return set(
        permissions.filter(content_type__app_label="wagtail_tickets").values_list(
            "codename", flat=True
        )
    )


def test_custom_and_configuration_permissions_are_registered():
    codenames = registered_permissions()
    for codename, _label in Ticket._meta.permissions:
        assert codename in codenames
    for model in ("status", "priority", "staffmember", "savedsearch"):
        for action in ("add", "change", "delete"):
            assert f"{action}_{model}" in codenames


def test_group_editor_shows_the_desk_permissions(client, superuser):
    content = login(client, superuser).get(reverse("wagtailusers_groups:add")).content.decode()
    assert "Can assign tickets" in content
    assert "Can see tickets of all departments" in content


def test_ticket_policy_is_registered():
    assert policy_registry.get_by_type(Ticket) is ticket_permission_policy


def test_ticket_policy_follows_department_visibility(
    agent, other_agent, superuser, editor, ticket, department
):
    policy = ticket_permission_policy
    assert policy.user_has_permission(agent, "view")
    assert policy.user_has_permission(agent, "change")
    assert not policy.user_has_permission(editor, "view")
    assert not policy.user_has_permission(agent, "delete")
    assert not policy.user_has_permission(agent, "assign")
    assert policy.user_has_permission_for_instance(agent, "change", ticket)
    assert not policy.user_has_permission_for_instance(other_agent, "view", ticket)
    assert policy.user_has_permission_for_instance(superuser, "delete", ticket)
    assert list(policy.instances_user_has_permission_for(agent, "view")) == [ticket]
    assert not policy.instances_user_has_permission_for(other_agent, "view").exists()
    assert not policy.instances_user_has_permission_for(editor, "view").exists()
    assert policy.instances_user_has_permission_for(superuser, "change").count() == 1
    users = set(policy.users_with_permission_for_instance("change", ticket))
    assert agent in users and superuser in users
    assert other_agent not in users and editor not in users


def test_ticket_policy_custom_permissions(agent, ticket):
    assigner = factories.make_manager(
        "assigner",
        codenames=["assign_ticket", "view_all_departments", "edit_message"],
    )
    policy = ticket_permission_policy
    assert policy.user_has_permission(assigner, "assign")
    assert policy.user_has_permission(assigner, "assign_ticket")
    assert policy.user_has_permission(assigner, "edit_message")
    assert not policy.user_has_permission(assigner, "delete_message")
    assert policy.user_has_permission_for_instance(assigner, "view", ticket)
    assert assigner in set(policy.users_with_permission("assign"))
    assert agent not in set(policy.users_with_permission("assign"))
    assert {assigner, agent} <= set(policy.users_with_permission("view"))


def test_anonymous_has_no_ticket_permissions(ticket):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not ticket_permission_policy.user_has_permission(anonymous, "view")
    assert not ticket_permission_policy.instances_user_has_permission_for(
        anonymous, "view"
    ).exists()
