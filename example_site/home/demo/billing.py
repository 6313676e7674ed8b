"""Paid support in the demo: a per-request department, a prepaid-incident department,
incident packs, and customers whose statements have something to show.

Everything goes through the billing workflow with past dates, as a shop's payments and
a few months of requests would have made it.
"""

from datetime import timedelta
from decimal import Decimal

from wagtail.models import Site

from wagtail_tickets import billing, workflow
from wagtail_tickets.models import (
    DepartmentPage,
    HelpdeskSettings,
    IncidentPack,
    LedgerEntry,
    StaffMember,
    Status,
)

from .pages import THANK_YOU

PRICE = Decimal("500.00")

# slug, title, code prefix, intro, support mode
PAID_DEPARTMENTS = [
    (
        "expert",
        "Expert consultation",
        "EXP",
        "<p>An engineer looks into your setup in depth: performance, architecture, "
        "migrations. Each request is charged to your balance.</p>",
        DepartmentPage.SupportMode.PER_REQUEST,
    ),
    (
        "premium",
        "Premium support",
        "PRE",
        "<p>Priority answers from the senior team. Each request uses one incident of "
        "your support pack.</p>",
        DepartmentPage.SupportMode.PREPAID,
    ),
]

# name, incidents, validity, days, months
PACKS = [
    ("Welcome pack", 1, IncidentPack.Validity.DAYS, 30, None),
    ("Starter: 3 incidents", 3, IncidentPack.Validity.DAYS, 90, None),
    ("Business: 10 incidents", 10, IncidentPack.Validity.DAYS, 365, None),
    ("Monthly quota: 4 a month", 4, IncidentPack.Validity.MONTHLY, None, 12),
]

# Requests of the statement's customer: (days ago, department prefix, subject, body)
REQUESTS = [
    (58, "PRE", "Mail server rejects our SPF record", "Outgoing mail bounces since Monday."),
    (51, "EXP", "Review of our database indexes", "The reports page takes 40 seconds."),
    (44, "PRE", "SSL certificate did not renew", "The shop shows a certificate warning."),
    (37, "PRE", "Backup job fails at night", "The log says 'disk quota exceeded'."),
    (30, "EXP", "Plan for moving to the new data centre", "We need a migration plan."),
    (21, "PRE", "Admin panel is slow after the update", "Every page takes five seconds."),
    (12, "PRE", "Webhook calls time out", "Payment notifications arrive late."),
    (4, "EXP", "Load test before the sale", "We expect ten times the usual traffic."),
]


def ensure_paid_departments(helpdesk):
    """The two paid departments; existing ones are left as they are."""
    departments = {}
    for slug, title, prefix, intro, mode in PAID_DEPARTMENTS:
        page = DepartmentPage.objects.child_of(helpdesk).filter(slug=slug).first()
        if page is None:
            page = DepartmentPage(
                title=title,
                slug=slug,
                code_prefix=prefix,
                intro=intro,
                thank_you_text=THANK_YOU,
                support_mode=mode,
                price_per_request=PRICE if mode == DepartmentPage.SupportMode.PER_REQUEST else None,
            )
            helpdesk.add_child(instance=page)
            page.save_revision().publish()
        departments[prefix] = page
    return departments


def ensure_packs(departments):
    packs = {}
    for name, incidents, validity, days, months in PACKS:
        pack, created = IncidentPack.objects.get_or_create(
            name=name,
            defaults={
                "incidents": incidents,
                "validity": validity,
                "validity_days": days,
                "months": months,
            },
        )
        if created:
            pack.departments.set([departments["PRE"]])
        packs[name] = pack
    return packs


def ensure_settings(packs):
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return
    site_settings = HelpdeskSettings.for_site(site)
    site_settings.signup_enabled = True
    site_settings.welcome_pack = packs["Welcome pack"]
    site_settings.purchase_url = "https://shop.example.com/support-packs/"
    site_settings.save()


def _open(department, customer, subject, body, at):
    ticket, _token = workflow.open_ticket(
        department=department,
        subject=subject,
        body=body,
        customer=customer,
        customer_name=customer.get_full_name(),
        customer_email=customer.email,
        submitter={"ip": "203.0.113.77", "source_page": department.get_url() or ""},
        language="en",
        at=at,
    )
    return ticket


def make_history(departments, packs, customers, staff, now):
    """A few months of paid support, written in date order so each statement reads as
    it happened; does nothing when the ledger has entries."""
    if LedgerEntry.objects.exists():
        return 0
    anna, ben, chloe, dmitry = customers[:4]
    manager = staff
    resolved = Status.first_of_kind(Status.Kind.RESOLVED)
    opened = {}

    def ago(days, hours=10):
        return now - timedelta(days=days) + timedelta(hours=hours - 12)

    def request(days, prefix, subject, body):
        def run():
            ticket = _open(departments[prefix], anna, subject, body, ago(days))
            opened[subject] = ticket
            workflow.post_reply(
                ticket,
                body="Thank you, we are on it. We will write as soon as we know more.",
                author=manager,
                by_staff=True,
                at=ago(days, 14),
            )
            if days > 10:
                workflow.change_status(ticket, resolved, user=manager, at=ago(days - 2))

        return run

    def opening_entry(subject):
        return LedgerEntry.objects.get(ticket=opened[subject], kind__in=LedgerEntry.OPENING_KINDS)

    # The statement worth reading: Anna pays in the shop for money and incidents, files
    # requests in both departments, gets an incident back and part of a charge
    # refunded, and pays for extra work.
    timeline = [
        (
            84,
            lambda: billing.grant_pack(
                chloe, packs["Starter: 3 incidents"], reason="Order 1021", at=ago(84)
            ),
        ),
        (
            75,
            lambda: billing.grant_pack(
                ben, packs["Monthly quota: 4 a month"], reason="Subscription", at=ago(75)
            ),
        ),
        (
            60,
            lambda: billing.deposit(
                anna, "3000.00", reason="Order 1042", reference="demo-pay-1042", at=ago(60, 9)
            ),
        ),
        (
            60,
            lambda: billing.grant_pack(
                anna, packs["Business: 10 incidents"], reason="Order 1043", at=ago(60)
            ),
        ),
        *[(days, request(days, *rest)) for days, *rest in REQUESTS],
        (
            48,
            lambda: billing.refund(
                opening_entry(REQUESTS[1][2]),
                "200.00",
                actor=manager,
                reason="The review took less time than planned",
                at=ago(48, 16),
            ),
        ),
        (
            42,
            lambda: billing.return_incident(
                opening_entry(REQUESTS[2][2]),
                actor=manager,
                reason="The certificate failed on our side",
                at=ago(42, 16),
            ),
        ),
        (
            40,
            lambda: billing.set_credit_limit(
                dmitry, "1000.00", actor=manager, reason="Partner", at=ago(40)
            ),
        ),
        (
            26,
            lambda: billing.add_charge(
                opened[REQUESTS[4][2]],
                "750.00",
                actor=manager,
                reason="Migration rehearsal, 3 hours",
                at=ago(26),
            ),
        ),
        (
            20,
            lambda: billing.deposit(
                anna, "1500.00", reason="Order 1107", reference="demo-pay-1107", at=ago(20)
            ),
        ),
        (15, lambda: billing.deposit(chloe, "250.00", reason="Order 1120", at=ago(15))),
        (
            9,
            lambda: _open(
                departments["EXP"],
                dmitry,
                "Second opinion on our CDN setup",
                "Is it worth it?",
                ago(9),
            ),
        ),
        (0, lambda: billing.settle(ben, at=now)),
    ]
    # Stable: same-day steps keep the order above.
    for _days, step in sorted(timeline, key=lambda item: -item[0]):
        step()
    return LedgerEntry.objects.count()


def ensure_billing(helpdesk, customers, staff, now):
    departments = ensure_paid_departments(helpdesk)
    # The billing team works the paid departments' tickets; the workflow lets only
    # agents who see a ticket's department work on it.
    StaffMember.objects.filter(user=staff).first().departments.add(*departments.values())
    # A fresh user object: the one passed in remembers its departments from before.
    staff = type(staff).objects.get(pk=staff.pk)
    packs = ensure_packs(departments)
    ensure_settings(packs)
    entries = make_history(departments, packs, customers, staff, now)
    return departments, entries
