from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from wagtail_tickets.models import Ticket

from ...demo import billing as paid_support
from ...demo import history, knowledge, pages, people
from ...demo.reset import delete_demo
from ...demo.tickets import TicketMaker
from ...models import HomePage


class Command(BaseCommand):
    help = _(
        "Load the demo helpdesk: home page, support centre, departments, users and "
        "tickets. Running it again adds nothing; --reset rebuilds the demo."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_(
                "Delete the demo pages, users and every ticket in the demo departments, "
                "give the admin a new password, then load again."
            ),
        )
        parser.add_argument(
            "--hostname",
            default=getattr(settings, "DEMO_HOSTNAME", "localhost"),
            help=_("The host name the demo is reached by, for its Site record and links."),
        )
        parser.add_argument(
            "--port",
            type=int,
            default=getattr(settings, "DEMO_PORT", 8000),
            help=_("The port the demo is served on, for its Site record and links."),
        )

    def handle(self, *args, reset=False, hostname="localhost", port=8000, **options):
        # Notifications go to memory: the console backend would print hundreds of mails.
        # The demo's history is not news: its tasks run here, not in the demo's worker.
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        ):
            # One transaction: a failure leaves the database as it was, and the mails
            # the workflow queues after commit are sent while the override still holds.
            with transaction.atomic():
                summary = self._load(reset, hostname, port)
        self._report(**summary)

    def _load(self, reset, hostname, port):
        if reset:
            delete_demo(HomePage.objects.child_of(Page.get_first_root_node()).first())
        home = pages.ensure_home(reset=reset)
        site = pages.point_site(home, hostname, port)
        helpdesk, departments = pages.ensure_helpdesk(home)
        admin, password = people.ensure_admin(reset=reset)
        staff = people.ensure_staff(departments)
        kb = knowledge.ensure_knowledge_base(helpdesk, departments)
        customers = people.ensure_customers()
        people.ensure_managers()
        created = made_history = 0
        if not Ticket.objects.filter(department__in=departments.values()).exists():
            agents = {
                prefix: [staff[row[0]] for row in people.STAFF if prefix in row[3]]
                for prefix in departments
            }
            now = timezone.now()
            # A year of older history first, so codes run in the order tickets came in.
            older = history.HistoryMaker(departments, agents, customers, now).make_all()
            recent = TicketMaker(departments, agents, customers, now).make_all()
            history.rate_recent(recent, now)
            history.knowledge_feedback(departments, now)
            history.articles_from_tickets(older, kb, admin)
            created = len(recent)
            made_history = len(older)
        paid_support.ensure_billing(helpdesk, customers, staff["peter"], timezone.now())
        return {
            "site_url": site.root_url if site else f"http://{hostname}:{port}",
            "helpdesk": helpdesk,
            "kb": kb,
            "departments": departments,
            "admin": admin,
            "password": password,
            "customer": customers[0],
            "created": created,
            "history": made_history,
        }

    def _report(
        self, site_url, helpdesk, kb, departments, admin, password, customer, created, history
    ):
        write = self.stdout.write
        tickets = Ticket.objects.filter(department__in=departments.values())
        if created:
            write(self.style.SUCCESS(_("Created %(count)d demo tickets.") % {"count": created}))
            write(
                self.style.SUCCESS(
                    _("Added a year of history: %(count)d older tickets.") % {"count": history}
                )
            )
        else:
            write(_("Demo tickets already exist; nothing was added (use --reset to rebuild)."))
        by_status = Counter(str(t.status) for t in tickets.select_related("status"))
        write(", ".join(f"{name}: {count}" for name, count in sorted(by_status.items())))
        # Labels are translated separately and padded here, so the values line up in
        # any language.
        rows = [
            (_("Site"), site_url + "/"),
            (_("Support centre"), helpdesk.get_full_url()),
            (_("Knowledge base"), kb.get_full_url()),
            (_("Admin"), site_url + reverse("wagtailadmin_home")),
        ]
        if password:
            rows.append((_("Admin login"), f"{admin.get_username()} / {password}"))
        else:
            rows.append(
                (
                    _("Admin login"),
                    _("%(user)s (existing password kept)") % {"user": admin.get_username()},
                )
            )
        for username, *_rest in people.STAFF:
            rows.append((_("Agent login"), f"{username} / {people.STAFF_PASSWORD}"))
        for username, *_rest in people.MANAGERS:
            rows.append((_("Manager login"), f"{username} / {people.STAFF_PASSWORD}"))
        rows.append(
            (
                _("Customer login"),
                _("%(credentials)s at %(url)s")
                % {
                    "credentials": f"{customer.get_username()} / {people.CUSTOMER_PASSWORD}",
                    "url": site_url + reverse("login"),
                },
            )
        )
        width = max(len(str(label)) for label, _value in rows) + 2
        write("")
        for label, value in rows:
            write(f"{label}:".ljust(width) + str(value))
