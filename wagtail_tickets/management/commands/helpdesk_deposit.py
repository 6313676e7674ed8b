from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ... import billing
from ...money import format_money
from ._billing_command import find_customer


class Command(BaseCommand):
    help = _(
        "Credit money to a customer's support account, e.g. after a payment in your shop. "
        "With --reference, running it again with the same reference credits nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer", help=_("Username or e-mail address."))
        parser.add_argument("amount", help=_("Amount, e.g. 250 or 99.50."))
        parser.add_argument("--reason", default="", help=_("Shown in the statement."))
        parser.add_argument(
            "--reference", default="", help=_("The payment's id in your shop or payment system.")
        )

    def handle(self, *args, customer, amount, reason="", reference="", **options):
        user = find_customer(customer)
        try:
            entry = billing.deposit(user, amount, reason=reason, reference=reference)
        except billing.BillingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("%(customer)s: balance %(balance)s (entry %(entry)s).")
            % {
                "customer": user.get_username(),
                "balance": format_money(entry.balance_after),
                "entry": entry.pk,
            }
        )
