"""The desk user's profile and departments: read once per request, and what they let
the user see."""

import pytest

from tests import factories
from wagtail_tickets.permissions import (
    desk_membership,
    staff_can_access,
    staff_department_ids,
    visible_tickets,
)

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it: nothing cached yet."""
    return type(user).objects.get(pk=user.pk)


def test_profile_and_departments_in_one_query(
    department, other_agent, helpdesk, django_assert_num_queries
):
    billing = factories.make_department(helpdesk, title="Billing", prefix="BIL")
    agent = factories.make_agent("twodesks", departments=[department, billing])
    user = fresh(agent)
    with django_assert_num_queries(1):
        profile, ids = desk_membership(user)
        # Django's own accessor answers from the same query.
        assert user.helpdesk_profile == profile
        assert desk_membership(user) == (profile, ids)
    assert profile.user_id == agent.pk
    assert ids == sorted([department.pk, billing.pk])


def test_a_profile_without_departments_sees_no_ticket(department, customer):
    agent = factories.make_agent("nodesk")
    factories.open_ticket(department, customer=customer)
    user = fresh(agent)
    profile, ids = desk_membership(user)
    assert profile is not None and ids == []
    assert list(visible_tickets(user)) == []


def test_a_user_without_profile_has_none_cached(customer, django_assert_num_queries):
    user = fresh(customer)
    assert desk_membership(user) == (None, [])
    with django_assert_num_queries(0):
        assert staff_department_ids(user) == []
        assert not hasattr(user, "helpdesk_profile")


def test_visibility_and_access_follow_the_departments(
    department, agent, other_agent, customer, django_assert_num_queries
):
    mine = factories.open_ticket(department, customer=customer)
    sales = other_agent.helpdesk_profile.departments.get()
    theirs = factories.open_ticket(sales, customer=customer)
    user = fresh(agent)
    assert list(visible_tickets(user)) == [mine]
    desk_membership(user)  # as the desk's access check does on every request
    with django_assert_num_queries(0):
        assert staff_can_access(user, mine)
        assert not staff_can_access(user, theirs)


def test_anonymous_users_have_no_departments(rf):
    from django.contrib.auth.models import AnonymousUser

    assert staff_department_ids(AnonymousUser()) == []
    assert staff_department_ids(None) == []
