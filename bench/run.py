#!/usr/bin/env python
"""Request timings and query counts of the main pages, on a database of N tickets.

    python bench/run.py --tickets 20000 --db sqlite
    python bench/run.py --tickets 100000 --db postgres --out bench/out/results.jsonl

Builds a throwaway database with the test settings (SQLite: a temporary file;
PostgreSQL: a database named wt_bench_<pid>, reached through the PG* environment
variables and dropped at the end), fills it, then times each scenario in-process with
django.test.Client and prints one JSON object per line:

    {"scenario": ..., "tickets": N, "db": ..., "requests": R, "p50_ms": ..., "p95_ms": ...,
     "queries": <SQL queries of the last request>, "sql_p50_ms": ..., "peak_rss_mib": ...}

sql_p50_ms is the median time per request spent executing SQL: the part that grows with
the data, and steadier than wall time on a busy machine. (SQLite computes some rows
while they are fetched, after the execute, so there it is a lower bound.)

A new scenario is a function taking the Fixture and returning a callable that makes one
request and returns the response; add it to SCENARIOS with the status code it must give.
A scenario whose view is not installed raises Skip and prints a line with "skipped".

The data (all bulk inserts): 5 departments, N tickets spread over them with 4 messages
each (customer, staff, customer, staff), the newest at most 1,000 of them active and the
rest resolved or closed (ACTIVE_TICKETS), 200 customer accounts, 10 agents with desk
profiles in two departments each (agent01, who sees two of the five departments, is the
measuring user of the desk scenarios), statuses and priorities varied, 60 % assigned,
some overdue, staff replies by the assignee or an agent of the department, 30 % of the
archived tickets' last replies rated; then the analytics rollups are rebuilt and the
search index is built in batches (their times are printed). The analytics_* scenarios
read as a manager who sees every department. The kb_*
scenarios first add a knowledge base of --articles published articles (default 5,000),
bulk-inserted and indexed for search.
"""

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARMUP = 3
BATCH = 2000
PREFIX = "BEN"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20000, help="tickets to create (20000)")
    parser.add_argument(
        "--articles",
        type=int,
        default=5000,
        help="published knowledge-base articles for the kb_* scenarios (5000)",
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per scenario")
    parser.add_argument("--out", help="also append the JSON lines to this file")
    parser.add_argument(
        "--scenario",
        action="append",
        dest="scenarios",
        metavar="NAME",
        help="run only this scenario (may be repeated); default: all",
    )
    parser.add_argument(
        "--show-queries",
        action="store_true",
        help="print the SQL of each scenario's last request to stderr",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database (SQLite file or PostgreSQL database; its name is printed) "
        "for EXPLAIN and experiments",
    )
    parser.add_argument(
        "--reuse",
        metavar="NAME",
        help="measure a database kept by an earlier --keep run (SQLite file path or "
        "PostgreSQL database name) instead of building one; --tickets is then read from it",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the timed requests with pyinstrument and print the report to stderr",
    )
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.requests < 1:
        parser.error("--tickets and --requests must be at least 1")
    if args.articles < 1:
        parser.error("--articles must be at least 1")
    unknown = set(args.scenarios or ()) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


# --------------------------------------------------------------------------------------
# Database and settings
# --------------------------------------------------------------------------------------


class Database:
    """A throwaway database: a temporary SQLite file or a PostgreSQL database."""

    def __init__(self, kind, name=None):
        self.kind = kind
        self.tmpdir = tempfile.mkdtemp(prefix="wt-bench-")
        self.name = name

    def create(self):
        if self.kind == "sqlite":
            self.name = os.path.join(self.tmpdir, "bench.sqlite3")
            return
        import psycopg

        self.name = f"wt_bench_{os.getpid()}"
        with psycopg.connect(dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        if self.kind == "postgres" and self.name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def configure_django(db):
    # tests.settings picks its database from WT_DB when it is imported.
    os.environ["WT_DB"] = "postgres" if db.kind == "postgres" else "sqlite"
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    from tests import settings as base

    values = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    database = dict(base.DATABASES["default"], NAME=db.name)
    database.pop("TEST", None)
    values.update(
        DATABASES={"default": database},
        # Notifications are enqueued as usual but never run or sent.
        TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        MEDIA_ROOT=os.path.join(db.tmpdir, "media"),
        DEBUG=False,
        LOGGING_CONFIG=None,
    )
    import django
    from django.conf import settings

    settings.configure(**values)
    django.setup()


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


@dataclass
class Fixture:
    tickets: int
    helpdesk: object
    department: object
    customer: object
    superuser: object
    customer_ticket: object
    departments: list = field(default_factory=list)
    agent: object = None
    agent_ticket: object = None
    reply_ticket: object = None
    keyword: str = ""
    high_priority: object = None
    index_seconds: float = 0.0
    article_count: int = 0
    kb: object = None

    @property
    def helpdesk_url(self):
        return self.helpdesk.get_url()

    @property
    def department_url(self):
        return self.department.get_url()

    def ticket_url(self, ticket):
        return self.helpdesk_url + self.helpdesk.reverse_subpage("ticket_route", args=[ticket.code])


# The first department keeps the BEN prefix the customer scenarios use.
DEPARTMENTS = [
    ("Billing", PREFIX),
    ("Technical support", "TEC"),
    ("Sales", "SAL"),
    ("Domains", "DOM"),
    ("Mail", "MAI"),
]
CUSTOMERS = 200
AGENTS = 10
MESSAGES_PER_TICKET = 4
ASSIGNED_SHARE = 0.6
OVERDUE_SHARE = 0.1
#: Open work is bounded by the staff, not by the history: the newest tickets (at most this
#: many, and at most half of them) are active and from the last RECENT_DAYS days; the
#: rest are resolved or closed, spread over the year before.
ACTIVE_TICKETS = 1000
RECENT_DAYS = 14
INDEX_BATCH = 1000
PRODUCTS = [
    "router",
    "invoice",
    "mailbox",
    "domain",
    "certificate",
    "backup",
    "firewall",
    "printer",
    "laptop",
    "password",
    "database",
    "website",
    "checkout",
    "newsletter",
    "server",
    "modem",
    "account",
    "refund",
    "subscription",
    "license",
    "calendar",
    "storage",
    "antivirus",
    "vpn",
    "keyboard",
    "monitor",
    "payment",
    "upgrade",
    "migration",
    "webmail",
    "forwarding",
    "dns",
    "hosting",
    "ftp",
    "shop",
    "coupon",
    "delivery",
    "warranty",
    "driver",
    "firmware",
]
PROBLEMS = [
    "does not work",
    "is slow",
    "keeps failing",
    "shows an error",
    "was charged twice",
    "cannot be renewed",
    "stopped after the update",
    "needs a change",
    "is missing",
    "question",
]
#: The inbox_search keyword: one product of forty, i.e. about 2.5 % of the tickets.
KEYWORD = "firewall"


def build_pages():
    from wagtail.models import Site

    from wagtail_tickets.models import DepartmentPage, HelpdeskPage, TicketFormField

    site = Site.objects.get(is_default_site=True)
    helpdesk = HelpdeskPage(title="Support", slug="support", intro="<p>How can we help?</p>")
    site.root_page.add_child(instance=helpdesk)
    helpdesk.save_revision().publish()
    departments = []
    for number, (title, prefix) in enumerate(DEPARTMENTS):
        department = DepartmentPage(
            title=title,
            slug=title.lower().replace(" ", "-"),
            code_prefix=prefix,
            intro=f"<p>Questions about {title.lower()}.</p>",
        )
        if number == 0:
            department.form_fields.add(
                TicketFormField(
                    sort_order=0, label="Order number", field_type="singleline", required=True
                )
            )
            department.form_fields.add(
                TicketFormField(
                    sort_order=1,
                    label="Product",
                    field_type="dropdown",
                    choices="Hosting\nDomains\nMail",
                    required=True,
                )
            )
        helpdesk.add_child(instance=department)
        department.save_revision().publish()
        departments.append(DepartmentPage.objects.get(pk=department.pk))
    return HelpdeskPage.objects.get(pk=helpdesk.pk), departments


def build_people(departments):
    """200 customer accounts and 10 agents with desk profiles, two departments each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from wagtail_tickets.models import StaffMember

    User = get_user_model()
    User.objects.bulk_create(
        [
            User(
                username=f"customer{n:03d}",
                email=f"customer{n:03d}@example.com",
                first_name=f"Customer{n:03d}",
                last_name="Example",
                password="!",
            )
            for n in range(1, CUSTOMERS + 1)
        ]
    )
    customers = list(User.objects.filter(username__startswith="customer").order_by("pk"))
    User.objects.bulk_create(
        [
            User(
                username=f"agent{n:02d}",
                email=f"agent{n:02d}@example.com",
                first_name="Agent",
                last_name=f"{n:02d}",
                is_staff=True,
                password="!",
            )
            for n in range(1, AGENTS + 1)
        ]
    )
    agents = list(User.objects.filter(username__startswith="agent").order_by("username"))
    access = Permission.objects.get(codename="access_admin")
    User.user_permissions.through.objects.bulk_create(
        [User.user_permissions.through(user_id=a.pk, permission_id=access.pk) for a in agents]
    )
    StaffMember.objects.bulk_create([StaffMember(user=a) for a in agents])
    profiles = {m.user_id: m for m in StaffMember.objects.all()}
    links = []
    by_department = {d.pk: [] for d in departments}
    for n, agent in enumerate(agents):
        for department in (departments[n % 5], departments[(n + 1) % 5]):
            links.append(
                StaffMember.departments.through(
                    staffmember_id=profiles[agent.pk].pk, departmentpage_id=department.pk
                )
            )
            by_department[department.pk].append(agent)
    StaffMember.departments.through.objects.bulk_create(links)
    return customers, agents, by_department


def bulk_tickets(departments, count, customers, agents_by_department):
    """N tickets over the departments, 4 messages each, written in batches."""
    from django.db import transaction
    from django.utils import timezone

    from wagtail_tickets.models import DepartmentCounter, Message, Priority, Status, Ticket
    from wagtail_tickets.topics import topic_key

    rng = random.Random(42)
    statuses = list(Status.objects.all())
    active = [s for s in statuses if s.kind in Status.ACTIVE_KINDS]
    archived_statuses = [s for s in statuses if s.kind in Status.ARCHIVED_KINDS]
    active_count = min(count // 2, ACTIVE_TICKETS)
    priorities = list(Priority.objects.all())
    now = timezone.now()
    products = ["Hosting", "Domains", "Mail"]
    numbers = {d.pk: 0 for d in departments}
    for start in range(0, count, BATCH):
        tickets = []
        for n in range(start, min(start + BATCH, count)):
            department = departments[n % len(departments)]
            numbers[department.pk] += 1
            number = numbers[department.pk]
            customer = customers[rng.randrange(len(customers))]
            recent = n >= count - active_count
            if recent:
                created = now - timedelta(minutes=rng.randint(600, RECENT_DAYS * 24 * 60))
            else:
                created = now - timedelta(minutes=rng.randint(RECENT_DAYS * 24 * 60, 365 * 24 * 60))
            steps = sorted(rng.randint(10, 480) for _ in range(MESSAGES_PER_TICKET - 1))
            times = [created] + [created + timedelta(minutes=m) for m in steps]
            status = rng.choice(active if recent else archived_statuses)
            priority = rng.choice(priorities)
            assignee = None
            if rng.random() < ASSIGNED_SHARE:
                assignee = rng.choice(agents_by_department[department.pk])
            archived = status.kind in Status.ARCHIVED_KINDS
            if archived:
                due = None
            elif rng.random() < OVERDUE_SHARE:
                due = now - timedelta(hours=rng.randint(1, 72))
            else:
                due = now + timedelta(hours=rng.randint(1, 72))
            subject = f"{rng.choice(PRODUCTS).capitalize()} {rng.choice(PROBLEMS)}"
            ticket = Ticket(
                code=f"{department.code_prefix}-{number:06d}",
                subject=subject,
                subject_key=topic_key(subject),
                department=department,
                status=status,
                priority=priority,
                customer=customer,
                customer_name=customer.get_full_name(),
                customer_email=customer.email,
                assignee=assignee,
                custom_fields=[
                    {
                        "name": "product",
                        "label": "Product",
                        "type": "dropdown",
                        "value": rng.choice(products),
                    }
                ],
                submitter_ip=f"192.0.2.{n % 250 + 1}",
                submitted_logged_in=True,
                access_token_hash=hashlib.sha256(f"bench-{n}".encode()).hexdigest(),
                language="en",
                created_at=created,
                updated_at=times[-1],
                last_message_at=times[-1],
                last_customer_message_at=times[2],
                first_response_at=times[1],
                resolved_at=times[-1] if archived else None,
                closed_at=times[-1] if status.kind == Status.Kind.CLOSED else None,
                message_count=MESSAGES_PER_TICKET,
                due_at=due,
            )
            ticket.wt_times = times
            ticket.wt_other = rng.choice(PRODUCTS)
            # The staff replies' author: the assignee, else an agent of the department
            # (without a random draw, so the rest of the data stays as it was).
            staff_of = agents_by_department[department.pk]
            ticket.wt_staff = assignee or staff_of[n % len(staff_of)]
            tickets.append(ticket)
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            if any(ticket.pk is None for ticket in tickets):
                ids = dict(
                    Ticket.objects.filter(code__in=[t.code for t in tickets]).values_list(
                        "code", "pk"
                    )
                )
                for ticket in tickets:
                    ticket.pk = ids[ticket.code]
            messages = []
            for ticket in tickets:
                for step, at in enumerate(ticket.wt_times):
                    staff = step % 2 == 1
                    if staff:
                        body = (
                            f"Hello {ticket.customer_name},\n\nthank you for writing. We have "
                            f"looked at your {ticket.subject.split()[0].lower()} and changed "
                            "the settings. Please try again.\n\nKind regards"
                        )
                    else:
                        body = (
                            f"Hello,\n\nmy {ticket.subject.lower()}. It also affects my "
                            f"{ticket.wt_other}. Could you check it?\n"
                        )
                    messages.append(
                        Message(
                            ticket_id=ticket.pk,
                            body=body,
                            author_id=ticket.wt_staff.pk if staff else ticket.customer_id,
                            author_name="Support" if staff else ticket.customer_name,
                            author_email="" if staff else ticket.customer_email,
                            is_staff_reply=staff,
                            source=Message.Source.STAFF if staff else Message.Source.WEB,
                            created_at=at,
                        )
                    )
            Message.objects.bulk_create(messages, batch_size=BATCH)
            bulk_ratings(tickets, messages, rng_seed=start)
    for department in departments:
        DepartmentCounter.objects.update_or_create(
            prefix=department.code_prefix, defaults={"last_number": numbers[department.pk]}
        )


#: Share of the resolved or closed tickets whose last staff reply the customer rated.
RATED_SHARE = 0.3


def bulk_ratings(tickets, messages, *, rng_seed):
    """Ratings of the last staff reply of some archived tickets (a separate random
    stream, so the tickets and messages stay as they were)."""
    from wagtail_tickets.models import Rating

    if messages and messages[0].pk is None:
        return  # a database without RETURNING in bulk inserts: no ratings
    rng = random.Random(rng_seed + 7)
    last_staff = {}
    for message in messages:
        if message.is_staff_reply:
            last_staff[message.ticket_id] = message
    ratings = []
    for ticket in tickets:
        if ticket.resolved_at is None or rng.random() >= RATED_SHARE:
            continue
        message = last_staff[ticket.pk]
        at = message.created_at + timedelta(hours=rng.randint(1, 48))
        ratings.append(
            Rating(
                message_id=message.pk,
                ticket_id=ticket.pk,
                agent_id=message.author_id,
                score=rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 5, 8])[0],
                comment=rng.choice(["", "", "Thanks!", "Took a while.", "Did not help."]),
                source=Rating.Source.EMAIL,
                created_at=at,
                updated_at=at,
            )
        )
    Rating.objects.bulk_create(ratings, batch_size=BATCH)


def build_analytics():
    """The analytics rollups of the bulk-inserted history, as a site importing tickets
    would rebuild them (``manage.py helpdesk_rebuild_analytics``); returns the seconds."""
    from wagtail_tickets.analytics import rollups

    started = time.perf_counter()
    rollups.rebuild()
    return time.perf_counter() - started


def index_in_batches(model, related):
    """Index every row of ``model`` for search in batches; returns the seconds it took."""
    from wagtail.search.backends import get_search_backends

    started = time.perf_counter()
    backends = list(get_search_backends(with_auto_update=True))
    rows = model.objects.order_by("pk").prefetch_related(related)
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:INDEX_BATCH])
        if not batch:
            break
        for backend in backends:
            backend.add_bulk(model, batch)
        last = batch[-1].pk
    return time.perf_counter() - started


def build_search_index():
    """Index every ticket (messages included); returns the seconds it took."""
    from wagtail_tickets.models import Ticket

    return index_in_batches(Ticket, "messages")


def analyze():
    """Give the query planner its statistics, as a database in service has them.

    Bulk inserts leave none: PostgreSQL's autovacuum would gather them within minutes,
    and mark the pages all-visible so that index-only and by-key reads skip the heap
    checks (``VACUUM ANALYZE`` does both at once), SQLite only when told (``ANALYZE``,
    or ``PRAGMA optimize`` as its documentation recommends for long-lived applications;
    the README says so). Without them SQLite sorts every visible ticket for the inbox's
    first page instead of walking the ``last_message_at`` index.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def build_fixture(ticket_count):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.utils import timezone
    from wagtail.models import Site

    from wagtail_tickets import workflow
    from wagtail_tickets.models import HelpdeskSettings, Priority

    call_command("migrate", verbosity=0, interactive=False)
    helpdesk, departments = build_pages()
    department = departments[0]
    User = get_user_model()
    site_settings = HelpdeskSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.captcha_mode = HelpdeskSettings.CaptchaMode.HONEYPOT
    site_settings.min_fill_seconds = 0
    site_settings.anonymous_tickets_per_hour = 32767
    site_settings.save()

    customers, agents, by_department = build_people(departments)
    bulk_tickets(departments, ticket_count, customers, by_department)
    print(f"# analytics rollups rebuilt in {build_analytics():.1f} s", file=sys.stderr)
    index_seconds = build_search_index()
    print(
        f"# {ticket_count} tickets indexed for search in {index_seconds:.1f} s",
        file=sys.stderr,
    )

    agent = agents[0]  # departments 0 and 1
    # The floor listing (Statuses) is measured as the same agent.
    agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_tickets", codename="view_status"
        )
    )
    agent = User.objects.get(pk=agent.pk)

    customer = User.objects.create_user(
        "customer", email="customer@example.com", password="customer", first_name="Casey"
    )
    superuser = User.objects.create_superuser("admin", email="admin@example.com", password="admin")
    start = timezone.now() - timedelta(days=2)
    ticket, _token = workflow.open_ticket(
        department=department,
        subject="My domain does not renew",
        body="The renewal failed with an error.",
        customer=customer,
        customer_name="Casey",
        customer_email=customer.email,
        custom_fields=[
            {"name": "order_number", "label": "Order number", "type": "singleline", "value": "42"},
            {"name": "product", "label": "Product", "type": "dropdown", "value": "Domains"},
        ],
        at=start,
    )
    for i in range(1, 5):
        staff = i % 2 == 1
        workflow.post_reply(
            ticket,
            body=f"Reply number {i}.\nWith a second line and a link: https://example.com/{i}",
            author=superuser if staff else customer,
            by_staff=staff,
            at=start + timedelta(hours=i),
        )
    ticket.refresh_from_db()
    analyze()
    from wagtail_tickets.models import Ticket

    in_agent_departments = Ticket.objects.filter(department=departments[1]).order_by("pk")
    return Fixture(
        tickets=ticket_count,
        helpdesk=helpdesk,
        department=department,
        customer=customer,
        superuser=superuser,
        customer_ticket=ticket,
        departments=departments,
        agent=agent,
        agent_ticket=in_agent_departments[0] if ticket_count >= 5 else ticket,
        reply_ticket=in_agent_departments[1] if ticket_count >= 10 else ticket,
        keyword=KEYWORD,
        high_priority=Priority.objects.order_by("sort_order").last(),
        index_seconds=index_seconds,
    )


def reuse_fixture():
    """The Fixture of a database that ``build_fixture`` filled in an earlier run."""
    from django.contrib.auth import get_user_model

    from wagtail_tickets.models import (
        ActivityRollup,
        DepartmentPage,
        HelpdeskPage,
        KnowledgeBaseIndexPage,
        Priority,
        Ticket,
    )

    if not ActivityRollup.objects.exists():
        # Kept before the analytics existed: give it its rollups once.
        print(f"# analytics rollups rebuilt in {build_analytics():.1f} s", file=sys.stderr)
    User = get_user_model()
    departments = [DepartmentPage.objects.get(code_prefix=prefix) for _title, prefix in DEPARTMENTS]
    customer = User.objects.get(username="customer")
    in_agent_departments = Ticket.objects.filter(department=departments[1]).order_by("pk")
    tickets = Ticket.objects.count()
    return Fixture(
        tickets=tickets,
        helpdesk=HelpdeskPage.objects.get(),
        department=departments[0],
        customer=customer,
        superuser=User.objects.get(username="admin"),
        customer_ticket=Ticket.objects.filter(customer=customer).earliest("pk"),
        departments=departments,
        agent=User.objects.get(username="agent01"),
        agent_ticket=in_agent_departments[0],
        reply_ticket=in_agent_departments[1],
        keyword=KEYWORD,
        high_priority=Priority.objects.order_by("sort_order").last(),
        kb=KnowledgeBaseIndexPage.objects.first(),
    )


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------


class Skip(Exception):
    """The scenario's view is not installed; the message says why."""


def client(user=None):
    from django.test import Client

    c = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="wt-bench")
    if user is not None:
        c.force_login(user)
    return c


def scenario_submit(fx):
    """An anonymous visitor files a ticket with both custom fields."""
    from wagtail_tickets import captcha

    c = client()
    url = fx.department_url
    # The form must render and carry the fields the POST below fills in.
    page = c.get(url)
    html = page.content.decode()
    for name in ("cf_order_number", "cf_product", captcha.HONEYPOT_FIELD, captcha.STARTED_FIELD):
        if f'name="{name}"' not in html:
            raise SystemExit(f"submit: the form at {url} has no field {name!r}")
    counter = iter(range(1, 10**9))

    def request():
        n = next(counter)
        return c.post(
            url,
            {
                "name": "Visitor",
                "email": f"visitor{n}@example.com",
                "subject": f"Payment failed {n}",
                "message": "My card was charged twice.\nPlease refund one payment.",
                "cf_order_number": str(500000 + n),
                "cf_product": "Hosting",
                captcha.HONEYPOT_FIELD: "",
                captcha.STARTED_FIELD: captcha.signed_start(),
            },
        )

    return request


def scenario_customer_ticket(fx):
    """A logged-in customer opens their ticket with five messages."""
    c = client(fx.customer)
    url = fx.ticket_url(fx.customer_ticket)
    return lambda: c.get(url)


def scenario_support_centre(fx):
    """An anonymous visitor opens the support centre."""
    c = client()
    url = fx.helpdesk_url
    return lambda: c.get(url)


def scenario_floor(fx):
    """A superuser opens the Wagtail admin dashboard."""
    c = client(fx.superuser)
    return lambda: c.get("/admin/")


def _reverse(name, *args):
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def scenario_inbox(fx):
    """The agent opens the inbox: first page, default sort."""
    c = client(fx.agent)
    url = _reverse("helpdesk_inbox:index")
    if url is None:
        raise Skip("helpdesk_inbox:index is not installed")
    return lambda: c.get(url)


def scenario_inbox_search(fx):
    """The agent searches the inbox for a keyword (about 2.5 % of the tickets)."""
    c = client(fx.agent)
    url = f"{_reverse('helpdesk_inbox:index')}?q={fx.keyword}"
    return lambda: c.get(url)


def scenario_inbox_filtered(fx):
    """The agent filters the inbox: open, one of their departments, highest priority."""
    c = client(fx.agent)
    url = (
        f"{_reverse('helpdesk_inbox:index')}?state=open"
        f"&department={fx.departments[1].pk}&priority={fx.high_priority.pk}"
    )
    return lambda: c.get(url)


def scenario_ticket(fx):
    """The agent opens a ticket with four messages on the ticket screen."""
    url = _reverse("helpdesk_tickets:detail", fx.agent_ticket.pk)
    if url is None:
        raise Skip("the ticket screen (helpdesk_tickets:detail) is not installed")
    c = client(fx.agent)
    return lambda: c.get(url)


def scenario_reply(fx):
    """The agent posts a public reply (automatic status) to a ticket."""
    url = _reverse("helpdesk_tickets:reply", fx.reply_ticket.pk)
    if url is None:
        raise Skip("the reply endpoint (helpdesk_tickets:reply) is not installed")
    c = client(fx.agent)
    counter = iter(range(1, 10**9))

    def request():
        n = next(counter)
        # Both spellings of the fields, so the scenario survives a rename of either.
        return c.post(
            url,
            {
                "message": f"Thank you, we have checked it ({n}).",
                "is_internal": "",
                "time_spent": "2",
                "time_spent_minutes": "2",
                "new_status": "",
                "status": "",
            },
        )

    return request


def scenario_dashboard(fx):
    """The agent opens the Wagtail admin home with the desk's panel."""
    c = client(fx.agent)
    return lambda: c.get("/admin/")


def scenario_frequent_requests(fx):
    """The agent opens the Frequent requests report for the last year, grouped by topic."""
    c = client(fx.agent)
    url = _reverse("helpdesk_reports:frequent_requests")
    if url is None:
        raise Skip("helpdesk_reports:frequent_requests is not installed")
    return lambda: c.get(url + "?period=365")


def analytics_manager():
    """A manager who may read the analytics of every department (made on first use)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    User = get_user_model()
    manager, created = User.objects.get_or_create(
        username="manager",
        defaults={"email": "manager@example.com", "is_staff": True, "first_name": "Mona"},
    )
    if created:
        manager.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["access_admin", "view_analytics", "view_all_departments"]
            )
        )
    return User.objects.get(pk=manager.pk)


def _analytics(name):
    def scenario(fx):
        url = _reverse(f"helpdesk_analytics:{name}")
        if url is None:
            raise Skip(f"helpdesk_analytics:{name} is not installed")
        c = client(analytics_manager())
        request = lambda: c.get(url + "?period=365")  # noqa: E731
        request.note = "a manager of every department, the last 365 days"
        return request

    scenario.__doc__ = f"A manager opens the analytics' {name} screen for the last year."
    return scenario


scenario_analytics_overview = _analytics("overview")
scenario_analytics_agents = _analytics("agents")
scenario_analytics_departments = _analytics("departments")


def _status_listing_url():
    """The index URL of the Statuses viewset, found on wagtail_tickets.admin.config."""
    from wagtail.admin.viewsets.model import ModelViewSet

    from wagtail_tickets.models import Status

    try:
        from wagtail_tickets.admin import config
    except ImportError:
        config = None
    names = []
    for value in vars(config).values() if config else ():
        if isinstance(value, type) and issubclass(value, ModelViewSet):
            if getattr(value, "model", None) is Status:
                names.append(value.name or Status._meta.model_name)
    for name in [*names, "helpdesk_statuses", "wagtail_tickets_status", "status"]:
        url = _reverse(f"{name}:index")
        if url:
            return url
    return None


def scenario_floor_listing(fx):
    """Wagtail's own listing of Statuses (a ModelViewSet), as the same agent: the floor."""
    url = _status_listing_url()
    user = fx.agent
    if url is None:
        url = _reverse("wagtailusers_users:index")
        user = fx.superuser
        note = "no Status viewset found: Wagtail's users listing as a superuser"
    else:
        note = ""
    c = client(user)
    if c.get(url).status_code != 200:
        c = client(fx.superuser)
        note = (note + "; " if note else "") + "measured as a superuser"

    def request():
        return c.get(url)

    request.note = note
    return request


# --------------------------------------------------------------------------------------
# Knowledge base
# --------------------------------------------------------------------------------------

ARTICLE_BATCH = 500
ARTICLE_TITLES = [
    "Resetting the password of your {p}",
    "{P} does not work: what to check first",
    "Setting up your {p}",
    "Why is my {p} slow?",
    "{P} shows an error after the update",
    "Moving your {p} to a new plan",
    "Cancelling or renewing a {p}",
    "{P}: frequently asked questions",
    "Connecting a {p} to your account",
    "Troubleshooting {p} sign-in problems",
    "Billing questions about your {p}",
    "Backing up and restoring your {p}",
]
ARTICLE_AUDIENCES = [
    "",
    " on Windows",
    " on macOS",
    " on Linux",
    " on Android",
    " on iPhone",
    " in the control panel",
    " through the API",
    " for teams",
    " for resellers",
    " after a migration",
]
#: What visitors type into the subject, half-finished; the requests take turns.
SUGGEST_QUERIES = [
    "router pass",
    "firewall is sl",
    "my invoice was charged tw",
    "cannot renew the domai",
    "vpn sign-in probl",
    "backup restore fail",
    "webmail",
    "printer does not print",
]
KB_SEARCH_QUERY = "router password"


def build_articles(helpdesk, departments, count):
    """A knowledge base with ``count`` published articles, each tied to a department or
    to none; returns the knowledge base.

    Adding pages one by one through Wagtail (add_child, revision, publish) takes about
    30 ms each. The articles' tree paths are consecutive children of one parent, so they
    are computed with treebeard's own helper and the page rows bulk-inserted; Django
    cannot bulk_create a multi-table child, so the ArticlePage rows are inserted with the
    queryset's insert step, which is what save() uses for the child table.
    """
    import uuid

    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Page

    from wagtail_tickets.models import ArticlePage, KnowledgeBaseIndexPage
    from wagtail_tickets.topics import topic_key

    kb = KnowledgeBaseIndexPage(title="Knowledge base", slug="kb")
    helpdesk.add_child(instance=kb)
    kb.save_revision().publish()
    kb = KnowledgeBaseIndexPage.objects.get(pk=kb.pk)
    content_type = ContentType.objects.get_for_model(ArticlePage)
    rng = random.Random(7)
    now = timezone.now()
    titles = [
        (template, product, audience)
        for audience in ARTICLE_AUDIENCES
        for template in ARTICLE_TITLES
        for product in PRODUCTS
    ]
    rng.shuffle(titles)
    owners = [*departments, None]
    with transaction.atomic():
        for start in range(0, count, ARTICLE_BATCH):
            pages, details = [], []
            for n in range(start, min(start + ARTICLE_BATCH, count)):
                template, product, audience = titles[n % len(titles)]
                title = template.format(p=product, P=product.capitalize()) + audience
                if n >= len(titles):
                    title += f" ({n // len(titles) + 1})"
                slug = f"article-{n + 1}"
                published = now - timedelta(days=rng.randint(1, 900))
                pages.append(
                    Page(
                        title=title,
                        draft_title=title,
                        slug=slug,
                        path=Page._get_path(kb.path, kb.depth + 1, n + 1),
                        depth=kb.depth + 1,
                        numchild=0,
                        url_path=f"{kb.url_path}{slug}/",
                        live=True,
                        has_unpublished_changes=False,
                        first_published_at=published,
                        last_published_at=published,
                        content_type=content_type,
                        locale_id=kb.locale_id,
                        translation_key=uuid.uuid4(),
                    )
                )
                other = rng.choice(PRODUCTS)
                body = [
                    {
                        "type": "text",
                        "id": str(uuid.uuid4()),
                        "value": (
                            f"<p>If your {product} {rng.choice(PROBLEMS)}, first check the "
                            f"settings of your {other}. Then sign in again and retry. Most "
                            f"problems with the {product} go away after a restart.</p>"
                        ),
                    }
                ]
                details.append((title, product, owners[n % len(owners)], json.dumps(body)))
            Page.objects.bulk_create(pages)
            if any(page.pk is None for page in pages):
                ids = dict(
                    Page.objects.filter(path__in=[p.path for p in pages]).values_list("path", "pk")
                )
                for page in pages:
                    page.pk = ids[page.path]
            rows = [
                ArticlePage(
                    page_ptr_id=page.pk,
                    summary=f"What to do when something is wrong with your {product}.",
                    body=body,
                    department=department,
                    topic_key=topic_key(title),
                )
                for page, (title, product, department, body) in zip(pages, details, strict=True)
            ]
            ArticlePage._base_manager._insert(rows, fields=ArticlePage._meta.local_concrete_fields)
        Page.objects.filter(pk=kb.pk).update(numchild=count)
    return kb


def index_articles():
    """Index every article (tags included); returns the seconds it took."""
    from wagtail_tickets.models import ArticlePage

    return index_in_batches(ArticlePage, "tags")


def knowledge_base(fx):
    """The fixture's knowledge base, built on first use so other runs do not pay for it."""
    if fx.kb is None:
        started = time.perf_counter()
        fx.kb = build_articles(fx.helpdesk, fx.departments, fx.article_count)
        built = time.perf_counter() - started
        indexed = index_articles()
        analyze()
        print(
            f"# {fx.article_count} articles built in {built:.1f} s, indexed in {indexed:.1f} s",
            file=sys.stderr,
        )
    return fx.kb


def scenario_kb_suggest(fx):
    """A visitor types a subject: the department form's article suggestions (JSON)."""
    knowledge_base(fx)
    c = client()
    url = fx.department_url + fx.department.reverse_subpage("suggest_route")
    counter = iter(range(10**9))

    def request():
        n = next(counter)
        # Each typist from their own address, so the per-address limit stays in the
        # measured path without refusing the benchmark.
        return c.get(
            url,
            {"q": SUGGEST_QUERIES[n % len(SUGGEST_QUERIES)]},
            REMOTE_ADDR=f"198.51.100.{n % 250 + 1}",
        )

    request.note = f"{fx.article_count} published articles"
    return request


def scenario_kb_search(fx):
    """A visitor searches the knowledge base: the search page's first page of results."""
    kb = knowledge_base(fx)
    c = client()
    url = kb.get_url() + kb.reverse_subpage("search_route")

    def request():
        return c.get(url, {"q": KB_SEARCH_QUERY})

    request.note = f"{fx.article_count} published articles, q={KB_SEARCH_QUERY!r}"
    return request


# name -> (builder, expected status code)
SCENARIOS = {
    "submit": (scenario_submit, 302),
    "customer_ticket": (scenario_customer_ticket, 200),
    "support_centre": (scenario_support_centre, 200),
    "floor": (scenario_floor, 200),
    "floor_listing": (scenario_floor_listing, 200),
    "inbox": (scenario_inbox, 200),
    "inbox_search": (scenario_inbox_search, 200),
    "inbox_filtered": (scenario_inbox_filtered, 200),
    "ticket": (scenario_ticket, 200),
    "reply": (scenario_reply, 302),
    "dashboard": (scenario_dashboard, 200),
    "kb_suggest": (scenario_kb_suggest, 200),
    "kb_search": (scenario_kb_search, 200),
    "frequent_requests": (scenario_frequent_requests, 200),
    "analytics_overview": (scenario_analytics_overview, 200),
    "analytics_agents": (scenario_analytics_agents, 200),
    "analytics_departments": (scenario_analytics_departments, 200),
}


def describe_failure(name, response, expected):
    body = response.content.decode(errors="replace")
    errors = ""
    context = getattr(response, "context", None)
    if context is not None and "form" in context and hasattr(context["form"], "errors"):
        errors = f"\nform errors: {context['form'].errors.as_json()}"
    return f"{name}: expected HTTP {expected}, got {response.status_code}{errors}\n{body[:2000]}"


class SQLClock:
    """Adds up the time spent executing SQL (Django's own log rounds each query to 1 ms)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def run_scenario(name, fx, args):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    builder, expected = SCENARIOS[name]
    try:
        request = builder(fx)
    except Skip as skip:
        return {
            "scenario": name,
            "tickets": args.tickets,
            "db": args.db,
            "skipped": True,
            "note": str(skip),
        }
    for _ in range(WARMUP):
        response = request()
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
    timings = []
    sql_times = []
    queries = 0
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    for _ in range(args.requests):
        sql_clock = SQLClock()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(sql_clock):
            started = time.perf_counter()
            response = request()
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
        queries = len(captured.captured_queries)
        sql_times.append(sql_clock.seconds * 1000)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False), file=sys.stderr)
    if args.show_queries:
        for query in captured.captured_queries:
            print(f"[{name}] {query['time']}s {query['sql'][:300]}", file=sys.stderr)
    result = {
        "scenario": name,
        "tickets": args.tickets,
        "db": args.db,
        "requests": args.requests,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "queries": queries,
        # The database's share of p50, less noisy than wall time on a shared machine.
        "sql_p50_ms": round(statistics.median(sql_times), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if getattr(request, "note", ""):
        result["note"] = request.note
    return result


def percentile(values, pct):
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def main(argv=None):
    args = parse_args(argv)
    db = Database(args.db, name=args.reuse)
    if not args.reuse:
        db.create()
    try:
        configure_django(db)
        started = time.perf_counter()
        if args.reuse:
            fx = reuse_fixture()
            args.tickets = fx.tickets
        else:
            fx = build_fixture(args.tickets)
        fx.article_count = args.articles
        print(
            f"# {args.db}: {fx.tickets} tickets ready in {time.perf_counter() - started:.1f} s"
            f" (search index {fx.index_seconds:.1f} s of it)",
            file=sys.stderr,
        )
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        for name in args.scenarios or SCENARIOS:
            line = json.dumps(run_scenario(name, fx, args))
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as out:
                    out.write(line + "\n")
    finally:
        if args.keep or args.reuse:
            print(f"# kept {db.kind} database {db.name}", file=sys.stderr)
        else:
            db.drop()


if __name__ == "__main__":
    main()
