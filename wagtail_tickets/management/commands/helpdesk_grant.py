from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ... import billing
from ...models import IncidentPack
from ._billing_command import find_customer


class Command(BaseCommand):
    help = _(
        "Grant an incident pack to a customer, e.g. after a purchase in your shop. With "
        "--reference, running it again with the same reference grants nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer", help=_("Username or e-mail address."))
        parser.add_argument("pack", help=_("The pack's id or exact name."))
        parser.add_argument("--reason", default="", help=_("Shown in the statement."))
        parser.add_argument(
            "--reference", default="", help=_("The order's id in your shop or payment system.")
        )

    def handle(self, *args, customer, pack, reason="", reference="", **options):
        user = find_customer(customer)
        packs = IncidentPack.objects.filter(pk=int(pack)) if pack.isdigit() else None
        if packs is None or not packs.exists():
            packs = IncidentPack.objects.filter(name=pack)
        found = list(packs[:2])
        if len(found) != 1:
            raise CommandError(
                _("No single incident pack has the id or name %(pack)s.") % {"pack": pack}
            )
        try:
            grant = billing.grant_pack(user, found[0], reason=reason, reference=reference)
        except billing.BillingError as error:
            raise CommandError(str(error)) from None
        grant.account.refresh_from_db()
        self.stdout.write(
            _("%(customer)s: %(left)s incidents left (grant %(grant)s).")
            % {
                "customer": user.get_username(),
                "left": grant.account.incidents_left,
                "grant": grant.pk,
            }
        )
