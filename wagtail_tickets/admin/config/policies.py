"""Permission policies of the desk: tickets and saved searches.

- ``ticket_permission_policy`` (registered for ``Ticket``): who may do what to which
  ticket, for Wagtail's generic machinery and the desk's own views.
- ``saved_search_permission_policy``: each agent's own searches, the shared ones read-only.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from wagtail import hooks
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from ...models import Priority, SavedSearch, StaffMember, Status, Ticket
from ...permissions import admin_user_ids, staff_can_access, visible_tickets
from ..menu import is_desk_user

#: Ticket's own permissions (Ticket.Meta.permissions), e.g. "assign_ticket".
TICKET_PERMISSIONS = tuple(codename for codename, _label in Ticket._meta.permissions)
#: Short action names the ticket policy also accepts.
TICKET_ACTION_ALIASES = {"assign": "assign_ticket", "change_fields": "change_ticket_fields"}


class TicketPermissionPolicy(ModelPermissionPolicy):
    """Who may do what with tickets.

    Actions:
    - ``view``, ``change`` (work on it: reply, add notes, close, reopen) and ``add``
      (open one for a customer): every desk user (a staff profile, "view all
      departments" or superuser), or a holder of the model permission.
    - ``delete``: the model permission ``delete_ticket`` only.
    - the custom permissions by codename (``assign_ticket``, ``change_ticket_fields``,
      ``edit_message``, ``delete_message``, ``view_all_departments``,
      ``view_analytics``, ``manage_billing``) or the aliases ``assign`` and
      ``change_fields``.

    Per instance, the user must also be able to see the ticket
    (``permissions.staff_can_access``); querysets start from ``visible_tickets``.
    """

    desk_actions = frozenset({"view", "change", "add"})

    def _get_permission_codename(self, action):
        if action in TICKET_PERMISSIONS:
            return action
        if action in TICKET_ACTION_ALIASES:
            return TICKET_ACTION_ALIASES[action]
        return super()._get_permission_codename(action)

    def user_has_permission(self, user, action):
        if not (user and user.is_authenticated and user.is_active):
            return False
        if action in self.desk_actions and is_desk_user(user):
            return True
        return user.has_perm(self._get_permission_name(action))

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and staff_can_access(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions) and staff_can_access(user, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return Ticket.objects.none()
        return visible_tickets(user)

    def users_with_any_permission(self, actions):
        codenames = self._get_permission_codenames(actions)
        condition = self._get_users_with_any_permission_codenames_filter(codenames)
        if self.desk_actions.intersection(actions):
            # Desk users as has_desk_rights counts them: admin access as well.
            desk = (
                self._get_users_with_any_permission_codenames_filter({"view_all_departments"})
                | Q(helpdesk_profile__isnull=False)
            ) & Q(pk__in=admin_user_ids())
            condition |= desk
        return get_user_model().objects.filter(condition).distinct()

    def users_with_any_permission_for_instance(self, actions, instance):
        sees_all = self._get_users_with_any_permission_codenames_filter({"view_all_departments"})
        in_department = Q(helpdesk_profile__departments=instance.department_id)
        return self.users_with_any_permission(actions).filter(sees_all | in_department).distinct()


class DeskUserObjectsPolicy(ModelPermissionPolicy):
    """Objects every desk user keeps for themself (saved searches, saved replies): the
    basic actions are every desk user's; the model's permissions let their holders
    manage what others share (``manages_shared``)."""

    basic_actions = frozenset({"view", "add", "change", "delete"})

    def user_has_permission(self, user, action):
        if not (user and user.is_authenticated and user.is_active):
            return False
        if action in self.basic_actions and is_desk_user(user):
            return True
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def manages_shared(self, user, action):
        return super().user_has_permission(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def users_with_any_permission(self, actions):
        condition = self._get_users_with_any_permission_codenames_filter(
            self._get_permission_codenames(actions)
        )
        if self.basic_actions.intersection(actions):
            # Desk users: a staff profile, or "view all departments" (a Ticket permission).
            desk = Q(helpdesk_profile__isnull=False)
            desk |= ticket_permission_policy._get_users_with_any_permission_codenames_filter(
                {"view_all_departments"}
            )
            condition |= desk & Q(pk__in=admin_user_ids())
        return get_user_model().objects.filter(condition).distinct()


class SavedSearchPermissionPolicy(DeskUserObjectsPolicy):
    """Saved searches belong to their owner.

    Every desk user may list, create (from the inbox), change and delete their own
    searches and see (and use) the shared ones. Shared searches of others are read-only,
    except for holders of the model's change/delete permission (managers tidying the
    shared list). Another agent's private search is never listed, not even to them.
    """

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if instance.owner_id == user.pk:
            return True
        if not instance.shared:
            return False
        return action == "view" or self.manages_shared(user, action)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return SavedSearch.objects.none()
        condition = Q(owner=user)
        if "view" in actions or any(self.manages_shared(user, a) for a in actions):
            condition |= Q(shared=True)
        return SavedSearch.objects.filter(condition)


ticket_permission_policy = TicketPermissionPolicy(Ticket)
saved_search_permission_policy = SavedSearchPermissionPolicy(SavedSearch)
# Registered on import (wagtail_hooks imports this module first), before any viewset or
# view asks the registry and gets a fallback policy.
register_permission_policy(Ticket, ticket_permission_policy)
register_permission_policy(SavedSearch, saved_search_permission_policy)


@hooks.register("register_permissions")
def register_helpdesk_permissions():
    """Ticket's custom permissions plus add/change/delete of the configuration models,
    for Wagtail's group editor."""
    models = (Status, Priority, StaffMember, SavedSearch)
    content_types = ContentType.objects.get_for_models(*models)
    configuration = Q()
    for model in models:
        opts = model._meta
        configuration |= Q(
            content_type=content_types[model],
            codename__in=[f"{action}_{opts.model_name}" for action in ("add", "change", "delete")],
        )
    ticket = Q(
        content_type=ContentType.objects.get_for_model(Ticket), codename__in=TICKET_PERMISSIONS
    )
    return Permission.objects.filter(ticket | configuration)


@hooks.register("register_permissions")
def register_mailbox_permissions():
    """``manage_mailboxes``: Helpdesk → Mailboxes (admin/mailboxes.py)."""
    from ...models import Mailbox

    return Permission.objects.filter(
        content_type=ContentType.objects.get_for_model(Mailbox), codename="manage_mailboxes"
    )
