"""Paid support in the admin (Helpdesk menu, orders 82-86).

policies.py     who may read (view_supportaccount) and change (manage_billing)
accounts.py     the accounts listing, opening an account, the account screen
actions.py      deposit, adjust, grant, credit limit, refund, return, end a grant,
                charge for extra work, the statement PDF
packs.py        incident packs (a ModelViewSet)
report.py       per month and department: tickets, incidents, charges, refunds, net
ticket_panel.py the ticket screen's "Paid support" panel
common.py       money columns, safe spreadsheet cells, the access mixin

Importing this package registers its hooks.
"""

from wagtail import hooks

from . import policies, report  # noqa: F401 - registers the policies and the report
from .accounts import AccountViewSet
from .packs import PackViewSet


@hooks.register("register_admin_viewset")
def register_billing_viewsets():
    return [AccountViewSet(), PackViewSet()]
