"""The desk's configuration screens and permission policies.

policies.py     ``ticket_permission_policy`` and the saved searches' policy, registered
                on import; the permissions offered in Wagtail's group editor
common.py       colour/duration columns, the ordered "one default" form, the delete view
                that refuses while in use, the viewset base
statuses.py     statuses (managers: the model's add/change/delete permissions)
priorities.py   priorities and their SLA targets
staff.py        staff (``change_staffmember``)
profile.py      "My desk profile" for every staff member
searches.py     saved searches: each agent's own, plus the shared ones read-only
departments.py  "Departments": a shortcut to the support centre in the page explorer

These are configuration, not ticket state: they are saved here, not through the
workflow, which only ever reads them. Importing this package registers its hooks.
"""

from django.urls import path
from wagtail import hooks

from ...permissions import sees_all_departments
from .common import (
    ColourColumn,
    ColourInput,
    ConfigurationForm,
    DurationColumn,
    HelpdeskViewSet,
    InUseDeleteView,
    NamedIndexView,
    OrderedConfigurationViewSet,
    format_minutes,
    ticket_usage_message,
)
from .departments import DEPARTMENTS_URL_NAME, departments_view
from .policies import (
    TICKET_ACTION_ALIASES,
    TICKET_PERMISSIONS,
    SavedSearchPermissionPolicy,
    TicketPermissionPolicy,
    saved_search_permission_policy,
    ticket_permission_policy,
)
from .priorities import PriorityDeleteView, PriorityForm, PriorityViewSet
from .profile import PROFILE_URL_NAME, MyProfileForm, MyProfileView
from .searches import (
    SavedSearchForm,
    SavedSearchViewSet,
    ToggleDefaultSearchView,
    inbox_url,
    set_default_search,
)
from .staff import StaffMemberForm, StaffMemberViewSet, admin_users
from .statuses import StatusDeleteView, StatusForm, StatusViewSet


@hooks.register("register_admin_viewset")
def register_configuration_viewsets():
    return [StatusViewSet(), PriorityViewSet(), StaffMemberViewSet(), SavedSearchViewSet()]


@hooks.register("register_admin_urls")
def register_configuration_urls():
    return [
        path("helpdesk/departments/", departments_view, name=DEPARTMENTS_URL_NAME),
        path("helpdesk/profile/", MyProfileView.as_view(), name=PROFILE_URL_NAME),
    ]


__all__ = [
    "DEPARTMENTS_URL_NAME",
    "PROFILE_URL_NAME",
    "TICKET_ACTION_ALIASES",
    "TICKET_PERMISSIONS",
    "ColourColumn",
    "ColourInput",
    "ConfigurationForm",
    "DurationColumn",
    "HelpdeskViewSet",
    "InUseDeleteView",
    "MyProfileForm",
    "MyProfileView",
    "NamedIndexView",
    "OrderedConfigurationViewSet",
    "PriorityDeleteView",
    "PriorityForm",
    "PriorityViewSet",
    "SavedSearchForm",
    "SavedSearchPermissionPolicy",
    "SavedSearchViewSet",
    "StaffMemberForm",
    "StaffMemberViewSet",
    "StatusDeleteView",
    "StatusForm",
    "StatusViewSet",
    "TicketPermissionPolicy",
    "ToggleDefaultSearchView",
    "admin_users",
    "departments_view",
    "format_minutes",
    "inbox_url",
    "saved_search_permission_policy",
    "sees_all_departments",
    "set_default_search",
    "ticket_permission_policy",
    "ticket_usage_message",
]
