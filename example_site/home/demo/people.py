"""Demo accounts: the admin, two agents and a dozen customers."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission

from wagtail_tickets.models import StaffMember

ADMIN_USERNAME = "admin"
STAFF_PASSWORD = "demo-staff"
CUSTOMER_PASSWORD = "demo-customer"
AGENT_GROUP = "Helpdesk agents"

# username, first name, last name, departments (code prefixes), signature
STAFF = [
    ("olga", "Olga", "Sokolova", ["TECH", "GEN"], "Olga, technical support"),
    ("peter", "Peter", "Novak", ["BILL", "GEN"], "Peter, billing team"),
    ("ivan", "Ivan", "Petrov", ["TECH"], "Ivan, technical support"),
]
# username, first name, last name: managers read the analytics of every department.
MANAGERS = [("mira", "Mira", "Lindqvist")]
MANAGER_GROUP = "Helpdesk managers"
MANAGER_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("wagtail_tickets", "view_analytics"),
    ("wagtail_tickets", "view_all_departments"),
]

CUSTOMERS = [
    ("anna", "Anna", "Kowalska"),
    ("ben", "Ben", "Carter"),
    ("chloe", "Chloe", "Martin"),
    ("dmitry", "Dmitry", "Ivanov"),
    ("elena", "Elena", "Petrova"),
    ("farid", "Farid", "Haddad"),
    ("grace", "Grace", "Okafor"),
    ("hiro", "Hiro", "Tanaka"),
    ("isabel", "Isabel", "Costa"),
    ("jonas", "Jonas", "Berg"),
    ("kate", "Kate", "Wilson"),
    ("liam", "Liam", "Murphy"),
]

# Visitors who write without an account.
ANONYMOUS = [
    ("Mark Stevens", "mark.stevens@example.net"),
    ("Sofia Rossi", "sofia.rossi@example.org"),
    ("Tom Becker", "tom@becker.example"),
    ("Nadia Karimova", "nadia.k@example.net"),
    ("Paul Dubois", "paul.dubois@example.org"),
    ("Yuki Sato", "yuki@example.jp"),
]

AGENT_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("wagtail_tickets", "view_ticket"),
    ("wagtail_tickets", "change_ticket"),
    ("wagtail_tickets", "assign_ticket"),
    ("wagtail_tickets", "change_ticket_fields"),
]

User = get_user_model()


def demo_usernames():
    return [row[0] for row in STAFF] + [row[0] for row in MANAGERS] + [row[0] for row in CUSTOMERS]


def ensure_admin(reset=False):
    """Return (user, password); password is None when an existing one was kept."""
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is not None and not reset:
        return admin, None
    password = secrets.token_urlsafe(9)
    if admin is None:
        admin = User(username=ADMIN_USERNAME, email="admin@example.com")
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.set_password(password)
    admin.save()
    return admin, password


def _agent_group(name=AGENT_GROUP, permissions=AGENT_PERMISSIONS):
    group, _created = Group.objects.get_or_create(name=name)
    for app_label, codename in permissions:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        # A permission the installed desk does not define yet is simply skipped.
        if permission is not None:
            group.permissions.add(permission)
    return group


def ensure_staff(departments):
    """Agents with desk profiles in their departments; keyed by username."""
    group = _agent_group()
    # Hashing is deliberately slow; every demo account shares one hash of one password.
    password_hash = make_password(STAFF_PASSWORD)
    staff = {}
    for username, first, last, prefixes, signature in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@helpdesk.example.com",
                "password": password_hash,
            },
        )
        user.groups.add(group)
        profile, _created = StaffMember.objects.get_or_create(
            user=user, defaults={"signature": signature}
        )
        profile.departments.add(*[departments[p] for p in prefixes])
        staff[username] = user
    return staff


def ensure_managers():
    """Managers who read the analytics: all departments, no desk profile of their own."""
    group = _agent_group(MANAGER_GROUP, MANAGER_PERMISSIONS)
    password_hash = make_password(STAFF_PASSWORD)
    managers = []
    for username, first, last in MANAGERS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@helpdesk.example.com",
                "password": password_hash,
            },
        )
        user.groups.add(group)
        managers.append(user)
    return managers


def ensure_customers():
    password_hash = make_password(CUSTOMER_PASSWORD)
    customers = []
    for username, first, last in CUSTOMERS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "password": password_hash,
            },
        )
        customers.append(user)
    return customers


def delete_demo_users():
    User.objects.filter(username__in=demo_usernames()).delete()
