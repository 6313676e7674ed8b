"""Who may read and change paid support in the admin.

- Reading (the accounts, their statements, the packs, the report): the model permission
  ``view_supportaccount`` or ``manage_billing``.
- Changing (deposits, adjustments, grants, refunds, returns, extra charges, credit
  limits, packs, opening accounts): ``manage_billing`` (a Ticket permission).
- Superusers may do both. Accounts and ledger entries are never edited or deleted as
  rows: every change is a workflow action that appends to the ledger.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from wagtail import hooks
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from ...models import IncidentPack, SupportAccount

VIEW_PERMISSION = "wagtail_tickets.view_supportaccount"
MANAGE_PERMISSION = "wagtail_tickets.manage_billing"


def _active(user):
    return bool(user and user.is_authenticated and user.is_active)


def can_view_billing(user):
    return _active(user) and (
        user.is_superuser or user.has_perm(VIEW_PERMISSION) or user.has_perm(MANAGE_PERMISSION)
    )


def can_manage_billing(user):
    return _active(user) and (user.is_superuser or user.has_perm(MANAGE_PERMISSION))


class BillingPermissionPolicy(ModelPermissionPolicy):
    """``view`` for readers; the rest for managers. ``editable_actions`` are the row
    changes the model allows at all (none for accounts)."""

    editable_actions = frozenset({"add", "change", "delete"})

    def user_has_permission(self, user, action):
        if action == "view":
            return can_view_billing(user)
        if action in self.editable_actions:
            return can_manage_billing(user)
        return False

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions)

    def instances_user_has_any_permission_for(self, user, actions):
        if self.user_has_any_permission(user, actions):
            return self.model._default_manager.all()
        return self.model._default_manager.none()

    def _users(self, codenames):
        condition = Q(is_superuser=True) | self._get_users_with_any_permission_codenames_filter(
            codenames
        )
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(condition, is_active=True).distinct()

    def users_with_any_permission(self, actions):
        codenames = {"manage_billing"}
        if "view" in actions:
            codenames.add("view_supportaccount")
        return self._users(codenames)

    def users_with_any_permission_for_instance(self, actions, instance):
        return self.users_with_any_permission(actions)


class AccountPermissionPolicy(BillingPermissionPolicy):
    # Accounts open through the workflow ("add" is opening one); never edited or
    # deleted as rows.
    editable_actions = frozenset({"add"})


account_permission_policy = AccountPermissionPolicy(SupportAccount)
pack_permission_policy = BillingPermissionPolicy(IncidentPack)
register_permission_policy(SupportAccount, account_permission_policy)
register_permission_policy(IncidentPack, pack_permission_policy)


@hooks.register("register_permissions")
def register_billing_permissions():
    """In Wagtail's group editor: "Can view support account" (reading paid support);
    "Can manage paid support" is among the Ticket permissions."""
    return Permission.objects.filter(
        content_type=ContentType.objects.get_for_model(SupportAccount),
        codename="view_supportaccount",
    )
