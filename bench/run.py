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

cpu_p50_ms is the median CPU time of this process per request (SQLite's work included,
PostgreSQL's not): steadier than wall time when other processes share the cores. Writes
also give after_response_p50_ms, after_response_queries and total_p50_ms: with the
default (in-process) task backend, notifications run once the response has been sent
(wagtail_tickets.background); the visitor does not wait for them, the process does.
Every line names the data's --shape and the --tasks backend it was measured with.

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
tickets' search table is filled in batches (their times are printed). The analytics_*
scenarios read as a manager who sees every department. That is --shape realistic;
--shape helpdesk is django-helpdesk's benchmark workload: 5 messages a ticket (the first
and 4 follow-ups), half of all tickets active, the 10 agents in all five departments, the
inbox keyword in 2 % of the subjects. The kb_*
scenarios first add a knowledge base of --articles published articles (default 5,000),
bulk-inserted and indexed for search. mail_ingest starts a private Dovecot on loopback
(skipped without one) and adds mail_per_s and the peak memory of a separate process
taking in a 20 MB message (large_mail_peak_rss_mib) to its line.
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
    parser.add_argument(
        "--shape",
        choices=sorted(SHAPES),
        default="realistic",
        help="the data: 'realistic' (a long history, at most 1,000 active tickets, agents "
        "in two departments) or 'helpdesk' (django-helpdesk's benchmark workload: half the "
        "tickets active, 5 messages each, 10 agents in every department, a keyword in 2 %%); "
        "with --reuse it is read from the database",
    )
    parser.add_argument(
        "--tasks",
        choices=sorted(TASK_BACKENDS),
        default="default",
        help="the task backend: 'default' (django_tasks' ImmediateBackend, what a site gets "
        "from the README: mails rendered and sent after each response, in the same process), "
        "'worker' (django-tasks-db: the request only enqueues; the worker's throughput is "
        "measured after the scenarios) or 'none' (tasks never run: the floor)",
    )
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
        help="profile the timed requests (and, with --tasks worker, the worker's run) with "
        "pyinstrument and print the reports to stderr",
    )
    parser.add_argument(
        "--profile-flat",
        action="store_true",
        help="with --profile: a flat list of functions by total time, library frames "
        "included, instead of the call tree",
    )
    parser.add_argument(
        "--profile-all",
        action="store_true",
        help="with --profile: the call tree with library frames shown",
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


#: --tasks: the TASKS setting of each choice.
TASK_BACKENDS = {
    "default": "django_tasks.backends.immediate.ImmediateBackend",
    "worker": "django_tasks_db.DatabaseBackend",
    "none": "django_tasks.backends.dummy.DummyBackend",
}


def configure_django(db, tasks="default"):
    # tests.settings picks its database from WT_DB when it is imported.
    os.environ["WT_DB"] = "postgres" if db.kind == "postgres" else "sqlite"
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    from tests import settings as base

    values = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    database = dict(base.DATABASES["default"], NAME=db.name)
    database.pop("TEST", None)
    values.update(
        DATABASES={"default": database},
        # Notifications run as on a site: rendered and handed to the (in-memory) mail
        # backend by the chosen task backend.
        TASKS={"default": {"BACKEND": TASK_BACKENDS[tasks]}},
        INSTALLED_APPS=[*base.INSTALLED_APPS, "django_tasks_db"]
        if "django_tasks_db" not in base.INSTALLED_APPS
        else base.INSTALLED_APPS,
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
    shape: str = "realistic"

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


@dataclass(frozen=True)
class Shape:
    """What the generated history looks like (--shape)."""

    name: str
    messages: int  # per ticket, the customer's first included
    active_limit: int | None  # at most this many active tickets (None: no limit)
    active_share: float  # at most this share of the tickets active
    departments_per_agent: int
    keyword_share: float | None  # the keyword's share of tickets (None: one product in 40)


SHAPES = {
    # A helpdesk with a long history: open work bounded by the staff.
    "realistic": Shape("realistic", 4, ACTIVE_TICKETS, 0.5, 2, None),
    # django-helpdesk's benchmark workload: 4 follow-ups after the first message, half
    # the tickets active, 10 agents in all 5 departments, a keyword in 2 %.
    "helpdesk": Shape("helpdesk", 5, None, 0.5, 5, 0.02),
}


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


def build_people(departments, shape):
    """200 customer accounts and 10 agents with desk profiles, in two departments each
    (all five in the helpdesk shape)."""
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
        for k in range(shape.departments_per_agent):
            department = departments[(n + k) % len(departments)]
            links.append(
                StaffMember.departments.through(
                    staffmember_id=profiles[agent.pk].pk, departmentpage_id=department.pk
                )
            )
            by_department[department.pk].append(agent)
    StaffMember.departments.through.objects.bulk_create(links)
    return customers, agents, by_department


def bulk_tickets(departments, count, customers, agents_by_department, shape):
    """N tickets over the departments, shape.messages messages each, written in batches."""
    from django.db import transaction
    from django.utils import timezone

    from wagtail_tickets.models import DepartmentCounter, Message, Priority, Status, Ticket
    from wagtail_tickets.topics import topic_key

    rng = random.Random(42)
    statuses = list(Status.objects.all())
    active = [s for s in statuses if s.kind in Status.ACTIVE_KINDS]
    archived_statuses = [s for s in statuses if s.kind in Status.ARCHIVED_KINDS]
    active_count = int(count * shape.active_share)
    if shape.active_limit is not None:
        active_count = min(active_count, shape.active_limit)
    others = [p for p in PRODUCTS if p != KEYWORD]

    def product():
        if shape.keyword_share is None:
            return rng.choice(PRODUCTS)
        return KEYWORD if rng.random() < shape.keyword_share else rng.choice(others)

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
            steps = sorted(rng.randint(10, 480) for _ in range(shape.messages - 1))
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
            subject = f"{product().capitalize()} {rng.choice(PROBLEMS)}"
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
                last_customer_message_at=times[-1 - (len(times) % 2 == 0)],
                first_response_at=times[1],
                resolved_at=times[-1] if archived else None,
                closed_at=times[-1] if status.kind == Status.Kind.CLOSED else None,
                message_count=shape.messages,
                due_at=due,
            )
            ticket.wt_times = times
            ticket.wt_other = rng.choice(PRODUCTS if shape.keyword_share is None else others)
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
    """Fill the tickets' search table (messages included), as ``helpdesk_reindex`` and
    the migration do; returns the seconds it took."""
    from django.db import transaction

    from wagtail_tickets.models import search

    started = time.perf_counter()
    with transaction.atomic():
        search.rebuild_all()
    return time.perf_counter() - started


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


def build_fixture(ticket_count, shape):
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

    customers, agents, by_department = build_people(departments, shape)
    bulk_tickets(departments, ticket_count, customers, by_department, shape)
    print(f"# analytics rollups rebuilt in {build_analytics():.1f} s", file=sys.stderr)
    index_seconds = build_search_index()
    print(
        f"# {ticket_count} tickets put in the search table in {index_seconds:.1f} s",
        file=sys.stderr,
    )

    agent = agents[0]  # departments 0 and 1 (all five in the helpdesk shape)
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
        shape=shape.name,
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
        StaffMember,
        Ticket,
    )

    if not ActivityRollup.objects.exists():
        # Kept before the analytics existed: give it its rollups once.
        print(f"# analytics rollups rebuilt in {build_analytics():.1f} s", file=sys.stderr)
    User = get_user_model()
    departments = [DepartmentPage.objects.get(code_prefix=prefix) for _title, prefix in DEPARTMENTS]
    agent_departments = StaffMember.departments.through.objects.filter(
        staffmember__user__username="agent01"
    ).count()
    shape = (
        "helpdesk"
        if agent_departments == SHAPES["helpdesk"].departments_per_agent
        else ("realistic")
    )
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
        shape=shape,
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
            # Each visitor from an address of their own: from one address, the
            # per-address limit's count would read every ticket the bench filed in
            # the last hour, growing with each run (a real site's stays under its limit).
            REMOTE_ADDR=f"198.51.100.{n % 250 + 1}",
        )

    return request


def scenario_department_form(fx):
    """An anonymous visitor opens a department's form (two custom fields)."""
    c = client()
    url = fx.department_url
    return lambda: c.get(url)


def scenario_floor_page(fx):
    """A plain Wagtail page (``Page``, Wagtail's own template) beside the departments:
    what Wagtail itself costs to serve a page there (the site, the route, the view
    restrictions), the floor under the department form."""
    from wagtail.models import Page

    floor = Page.objects.child_of(fx.helpdesk).filter(slug="wt-bench-floor").first()
    if floor is None:
        floor = fx.helpdesk.add_child(instance=Page(title="Floor", slug="wt-bench-floor"))
        floor.save_revision().publish()
    c = client()
    url = floor.get_url()
    return lambda: c.get(url)


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


def scenario_ticket_customer_tab(fx):
    """The agent opens the ticket screen's "Customer's tickets" tab (fetched apart)."""
    url = _reverse("helpdesk_tickets:detail", fx.agent_ticket.pk)
    if url is None:
        raise Skip("the ticket screen (helpdesk_tickets:detail) is not installed")
    c = client(fx.agent)
    return lambda: c.get(url + "?part=customer")


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


# --------------------------------------------------------------------------------------
# Paid support
# --------------------------------------------------------------------------------------

BILLING_ACCOUNTS = 10000
STATEMENT_ENTRIES = 5000
PAID_PREFIX = "PRE"


def paid_support(fx):
    """Paid support's data, built on first use: an incident department with the same
    two custom fields as the submit scenario's, the measuring customer with a large
    incident grant, 10,000 support accounts, and one account with 5,000 ledger entries.
    The agent who measures the desk may read accounts (view_supportaccount)."""
    cached = fx.__dict__.get("paid_support")
    if cached is not None:
        return cached
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import transaction
    from django.utils import timezone

    from wagtail_tickets import billing
    from wagtail_tickets.models import (
        DepartmentPage,
        IncidentPack,
        LedgerEntry,
        SupportAccount,
        TicketFormField,
    )

    started = time.perf_counter()
    User = get_user_model()
    department = DepartmentPage.objects.filter(code_prefix=PAID_PREFIX).first()
    if department is None:
        department = DepartmentPage(
            title="Premium support",
            slug="premium-support",
            code_prefix=PAID_PREFIX,
            support_mode=DepartmentPage.SupportMode.PREPAID,
        )
        for field in fx.department.form_fields.all():
            department.form_fields.add(
                TicketFormField(
                    sort_order=field.sort_order,
                    label=field.label,
                    field_type=field.field_type,
                    choices=field.choices,
                    required=field.required,
                )
            )
        fx.helpdesk.add_child(instance=department)
        department.save_revision().publish()
        department = DepartmentPage.objects.get(pk=department.pk)
    pack, _created = IncidentPack.objects.get_or_create(
        name="Bench pack", defaults={"incidents": 1_000_000}
    )
    if not SupportAccount.objects.filter(customer=fx.customer).exists():
        billing.grant_pack(fx.customer, pack)
    if SupportAccount.objects.count() < BILLING_ACCOUNTS:
        now = timezone.now()
        rng = random.Random(13)
        with transaction.atomic():
            User.objects.bulk_create(
                [
                    User(
                        username=f"payer{n:05d}",
                        email=f"payer{n:05d}@example.com",
                        first_name=f"Payer{n:05d}",
                        last_name="Example",
                        password="!",
                    )
                    for n in range(BILLING_ACCOUNTS)
                ],
                batch_size=BATCH,
            )
            payers = User.objects.filter(username__startswith="payer").values_list("pk", flat=True)
            SupportAccount.objects.bulk_create(
                [
                    SupportAccount(
                        customer_id=pk,
                        balance=Decimal(rng.choice([0, 0, 150, 2500, 990])),
                        incidents_left=0,
                        created_at=now - timedelta(days=rng.randint(1, 700)),
                        updated_at=now - timedelta(minutes=rng.randint(1, 500000)),
                    )
                    for pk in payers
                ],
                batch_size=BATCH,
            )
    owner = User.objects.filter(username="ledgerowner").first()
    if owner is None:
        owner = User.objects.create_user("ledgerowner", email="ledger@example.com")
        account = SupportAccount.objects.create(customer=owner)
        now = timezone.now()
        balance = Decimal("0.00")
        entries = []
        for n in range(STATEMENT_ENTRIES):
            deposit = n % 3 == 0
            amount = Decimal("30.00") if deposit else Decimal("-10.00")
            balance += amount
            entries.append(
                LedgerEntry(
                    account=account,
                    kind=LedgerEntry.Kind.DEPOSIT if deposit else LedgerEntry.Kind.EXTRA,
                    amount=amount,
                    ticket_code="" if deposit else f"{PREFIX}-{n:06d}",
                    reason="Order" if deposit else "Extra work",
                    created_at=now - timedelta(minutes=(STATEMENT_ENTRIES - n) * 90),
                    balance_after=balance,
                    incidents_after=0,
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
        SupportAccount.objects.filter(pk=account.pk).update(balance=balance)
    fx.agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_tickets", codename="view_supportaccount"
        )
    )
    fx.agent = User.objects.get(pk=fx.agent.pk)
    analyze()
    cached = {
        "department": department,
        "statement_account": SupportAccount.objects.get(customer=owner),
        "statement_owner": owner,
    }
    fx.__dict__["paid_support"] = cached
    print(
        f"# paid support data ready in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return cached


def scenario_submit_paid(fx):
    """A logged-in customer files a ticket in a prepaid-incident department (one
    incident used), with the same two custom fields as ``submit``."""
    department = paid_support(fx)["department"]
    c = client(fx.customer)
    url = department.get_url()
    counter = iter(range(1, 10**9))

    def request():
        n = next(counter)
        return c.post(
            url,
            {
                "subject": f"Server is slow {n}",
                "message": "The server answers slowly since this morning.",
                "cf_order_number": str(700000 + n),
                "cf_product": "Hosting",
            },
        )

    return request


def scenario_submit_logged_in(fx):
    """The same customer files in the free department with the same fields: what
    ``submit_paid`` costs beyond being logged in is the billing itself."""
    c = client(fx.customer)
    url = fx.department_url
    counter = iter(range(1, 10**9))

    def request():
        n = next(counter)
        return c.post(
            url,
            {
                "subject": f"Invoice missing {n}",
                "message": "I cannot find last month's invoice.",
                "cf_order_number": str(800000 + n),
                "cf_product": "Hosting",
            },
        )

    return request


def scenario_billing_accounts(fx):
    """The agent (allowed to read accounts) opens the support accounts listing,
    10,000 accounts, sorted by balance."""
    paid_support(fx)
    url = _reverse("helpdesk_billing_accounts:index")
    if url is None:
        raise Skip("the support accounts listing is not installed")
    c = client(fx.agent)
    request = lambda: c.get(url + "?ordering=-balance")  # noqa: E731
    request.note = f"{BILLING_ACCOUNTS} accounts"
    return request


def scenario_account_statement(fx):
    """The agent opens the account screen of an account with 5,000 ledger entries."""
    data = paid_support(fx)
    url = _reverse("helpdesk_billing_accounts:inspect", data["statement_account"].pk)
    c = client(fx.agent)
    request = lambda: c.get(url)  # noqa: E731
    request.note = f"{STATEMENT_ENTRIES} entries"
    return request


def scenario_my_account(fx):
    """That account's customer opens "My account" (grants and a page of the statement)."""
    data = paid_support(fx)
    c = client(data["statement_owner"])
    url = fx.helpdesk_url + fx.helpdesk.reverse_subpage("account_route")
    request = lambda: c.get(url)  # noqa: E731
    request.note = f"{STATEMENT_ENTRIES} entries"
    return request


# name -> (builder, expected status code)
# --------------------------------------------------------------------------------------
# Mail intake
# --------------------------------------------------------------------------------------

MAIL_BATCH = 20
LARGE_MAIL_MB = 20


def _mail_batch(n, replies):
    """MAIL_BATCH messages: half open tickets, half answer tickets of the data by code."""
    from email.message import EmailMessage

    raws = []
    for i in range(MAIL_BATCH):
        msg = EmailMessage()
        if i % 2 and replies:
            code, address = replies[(n * MAIL_BATCH + i) % len(replies)]
            msg["From"] = address
            msg["Subject"] = f"Re: [{code}] still broken"
            body = (
                f"It happened again ({n}-{i}).\n\nOn Mon, 3 Mar 2025 at 10:00, Support "
                "<support@bench.example> wrote:\n> Please try again.\n"
            )
        else:
            msg["From"] = f"Mail Customer {n}-{i} <mail{n}-{i}@bench.example>"
            msg["Subject"] = f"Printer {n}-{i} does not print"
            body = "The printer in room 4 prints blank pages since this morning.\n" * 5
        msg["To"] = "support@bench.example"
        msg["Message-ID"] = f"<bench.{os.getpid()}.{n}.{i}@bench.example>"
        msg.set_content(body)
        raws.append(bytes(msg))
    return raws


def _large_mail():
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Big Sender <big@bench.example>"
    msg["To"] = "support@bench.example"
    msg["Subject"] = "Scan of the whole manual"
    msg["Message-ID"] = f"<bench.large.{os.getpid()}@bench.example>"
    msg.set_content("The manual is attached.\n")
    # Base64 makes the attachment a third larger: the message is LARGE_MAIL_MB in all.
    size = LARGE_MAIL_MB * 1024 * 1024 * 3 // 4 - 4096
    msg.add_attachment(
        b"%PDF-1.4\n" + os.urandom(size), maintype="application", subtype="pdf",
        filename="manual.pdf",
    )  # fmt: skip
    return bytes(msg)


class _Done:
    status_code = 200


def scenario_mail_ingest(fx):
    """Messages from a local Dovecot (IMAP) into tickets and replies, MAIL_BATCH a request.

    Each request appends a batch to the mailbox and runs one fetch; mail_per_s is the
    batch over the fetch's time alone. Once, a separate process fetches a message of
    LARGE_MAIL_MB and reports its peak memory (large_mail_peak_rss_mib).
    """
    import atexit

    from tests.mail.dovecot import Dovecot, binary
    from wagtail_tickets.mail import fetch
    from wagtail_tickets.mail.secrets import encrypt
    from wagtail_tickets.models import DepartmentPage, Mailbox, Ticket

    if binary() is None:
        raise Skip("dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
    server = Dovecot().start()
    atexit.register(server.stop)
    DepartmentPage.objects.filter(pk=fx.department.pk).update(max_attachment_mb=LARGE_MAIL_MB)
    mailbox, _created = Mailbox.objects.update_or_create(
        name="bench",
        defaults={
            "address": "support@bench.example",
            "protocol": Mailbox.Protocol.IMAP,
            "host": server.host,
            "port": server.ports["imap"],
            "security": Mailbox.Security.PLAIN,
            "username": "helpdesk",
            "password_encrypted": encrypt(server.users["helpdesk"]),
            "department": DepartmentPage.objects.get(pk=fx.department.pk),
        },
    )
    replies = list(
        Ticket.objects.active()
        .filter(department=fx.department)
        .values_list("code", "customer_email")[:200]
    )
    counter = iter(range(10**9))
    fetch_seconds = []

    def request():
        batch = _mail_batch(next(counter), replies)
        server.append(batch)
        started = time.perf_counter()
        report = fetch.fetch_mailbox(mailbox, limit=MAIL_BATCH)
        fetch_seconds.append(time.perf_counter() - started)
        if report.errors or report.taken != MAIL_BATCH:
            raise SystemExit(f"mail_ingest: {report}")
        request.extra["mail_per_s"] = round(MAIL_BATCH * len(fetch_seconds) / sum(fetch_seconds), 1)
        return _Done()

    request.extra = {"mail_batch": MAIL_BATCH}
    request.extra.update(_large_mail_memory(server, mailbox))
    request.note = (
        f"{MAIL_BATCH} messages a request (half new tickets, half replies by code); "
        f"peak RSS of a separate process fetching a {LARGE_MAIL_MB} MB message"
    )
    return request


def _large_mail_memory(server, mailbox):
    """Fetch one LARGE_MAIL_MB message in a fresh process; its peak memory."""
    import subprocess

    from django.conf import settings
    from django.db import connections

    server.append([_large_mail()])
    connections.close_all()
    database = settings.DATABASES["default"]
    child = subprocess.run(
        [sys.executable, __file__, "--mail-memory-child", mailbox.name],
        env=dict(
            os.environ,
            WT_BENCH_DB_KIND="postgres" if "postgresql" in database["ENGINE"] else "sqlite",
            WT_BENCH_DB_NAME=str(database["NAME"]),
            WT_BENCH_MEDIA=settings.MEDIA_ROOT,
        ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"mail_ingest: the large message failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _high_water_mib():
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over from
    the parent across fork and exec, so a child started by a big process reports the
    parent's figure."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mail_memory_child(mailbox_name):
    """In a fresh process: fetch the waiting large message; print the peak memory."""
    db = Database(os.environ["WT_BENCH_DB_KIND"], name=os.environ["WT_BENCH_DB_NAME"])
    configure_django(db)
    from django.conf import settings

    settings.MEDIA_ROOT = os.environ["WT_BENCH_MEDIA"]
    from wagtail_tickets.mail import fetch
    from wagtail_tickets.models import Attachment, Mailbox

    mailbox = Mailbox.objects.get(name=mailbox_name)
    before = _high_water_mib()
    started = time.perf_counter()
    report = fetch.fetch_mailbox(mailbox, limit=1)
    seconds = time.perf_counter() - started
    if report.errors or report.taken != 1:
        raise SystemExit(f"large message not taken in: {report}")
    stored = Attachment.objects.order_by("-pk").first()
    print(
        json.dumps(
            {
                "large_mail_mb": LARGE_MAIL_MB,
                "large_mail_seconds": round(seconds, 2),
                "large_mail_attachment_mib": round(stored.size / 1048576, 1),
                "large_mail_rss_before_mib": round(before, 1),
                "large_mail_peak_rss_mib": round(_high_water_mib(), 1),
            }
        )
    )


SCENARIOS = {
    "department_form": (scenario_department_form, 200),
    "floor_page": (scenario_floor_page, 200),
    "submit": (scenario_submit, 302),
    "customer_ticket": (scenario_customer_ticket, 200),
    "support_centre": (scenario_support_centre, 200),
    "floor": (scenario_floor, 200),
    "floor_listing": (scenario_floor_listing, 200),
    "inbox": (scenario_inbox, 200),
    "inbox_search": (scenario_inbox_search, 200),
    "inbox_filtered": (scenario_inbox_filtered, 200),
    "ticket": (scenario_ticket, 200),
    "ticket_customer_tab": (scenario_ticket_customer_tab, 200),
    "reply": (scenario_reply, 302),
    "dashboard": (scenario_dashboard, 200),
    "kb_suggest": (scenario_kb_suggest, 200),
    "kb_search": (scenario_kb_search, 200),
    "frequent_requests": (scenario_frequent_requests, 200),
    "analytics_overview": (scenario_analytics_overview, 200),
    "analytics_agents": (scenario_analytics_agents, 200),
    "analytics_departments": (scenario_analytics_departments, 200),
    # Paid support
    "submit_logged_in": (scenario_submit_logged_in, 302),
    "submit_paid": (scenario_submit_paid, 302),
    "billing_accounts": (scenario_billing_accounts, 200),
    "account_statement": (scenario_account_statement, 200),
    "my_account": (scenario_my_account, 200),
    "mail_ingest": (scenario_mail_ingest, 200),
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


class AfterResponseClock:
    """Times the work that ``wagtail_tickets.background`` runs once the response is sent.

    A server writes the response to the visitor before that work starts, so it is not in
    the visitor's time; it still occupies the process, so it is reported on its own.
    """

    def __init__(self):
        from wagtail_tickets import background

        self.background = background
        self.original = background.run_pending
        self.ran = 0
        self.reset()
        background.run_pending = self

    def __call__(self):
        from django.db import connection

        self.queries_before = len(connection.queries_log)
        started, cpu_started = time.perf_counter(), time.process_time()
        sql_started = self.sql_clock.seconds if self.sql_clock else 0.0
        try:
            ran = self.original()
            self.ran += ran or 0
            return ran
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu_started
            if self.sql_clock:
                self.sql_seconds += self.sql_clock.seconds - sql_started

    def reset(self, sql_clock=None):
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.sql_seconds = 0.0
        self.sql_clock = sql_clock
        self.queries_before = None


def run_scenario(name, fx, args, after_clock):
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    builder, expected = SCENARIOS[name]
    base = {"scenario": name, "tickets": args.tickets, "db": args.db, "shape": args.shape}
    try:
        request = builder(fx)
    except Skip as skip:
        return {**base, "skipped": True, "note": str(skip)}
    for _ in range(WARMUP):
        response = request()
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
    timings, totals, after_times, sql_times, cpu_times = [], [], [], [], []
    queries = after_queries = 0
    profiler = _start_profiler(args)
    after_clock.ran = 0
    for _ in range(args.requests):
        mail.outbox = []
        sql_clock = SQLClock()
        after_clock.reset(sql_clock)
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(sql_clock):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = request()
            total = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu_started - after_clock.cpu_seconds) * 1000
        after = after_clock.seconds * 1000
        cpu_times.append(cpu)
        totals.append(total)
        after_times.append(after)
        timings.append(total - after)
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
        queries = len(captured.captured_queries)
        if after_clock.ran and after_clock.queries_before is not None:
            after_queries = captured.final_queries - after_clock.queries_before
            queries -= after_queries
        sql_times.append((sql_clock.seconds - after_clock.sql_seconds) * 1000)
    _print_profile(profiler, args)
    if args.show_queries:
        for query in captured.captured_queries:
            print(f"[{name}] {query['time']}s {query['sql'][:4000]}", file=sys.stderr)
    result = {
        **base,
        "tasks": args.tasks,
        "requests": args.requests,
        # What the visitor waits for: until the response is handed to the server.
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "queries": queries,
        # The database's share of p50, less noisy than wall time on a shared machine.
        "sql_p50_ms": round(statistics.median(sql_times), 1),
        # This process's CPU time for the response (SQLite's work included, PostgreSQL's
        # not): what the request costs when other processes compete for the cores.
        "cpu_p50_ms": round(statistics.median(cpu_times), 2),
        "peak_rss_mib": round(_high_water_mib(), 1),
    }
    if after_clock.ran:
        # Notifications run after the response, in the same process (--tasks default).
        result["after_response_p50_ms"] = round(statistics.median(after_times), 2)
        result["after_response_queries"] = after_queries
        result["total_p50_ms"] = round(statistics.median(totals), 2)
    if getattr(request, "note", ""):
        result["note"] = request.note
    result.update(getattr(request, "extra", {}))
    return result


def _start_profiler(args):
    if not args.profile:
        return None
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    return profiler


def _print_profile(profiler, args):
    if profiler is None:
        return
    profiler.stop()
    report = profiler.output_text(
        unicode=True,
        color=False,
        show_all=args.profile_flat or args.profile_all,
        flat=args.profile_flat,
        flat_time="total",
    )
    print(report, file=sys.stderr)


def worker_throughput(args):
    """Run the tasks the scenarios queued (--tasks worker) through django-tasks-db's
    worker in this process; returns a JSON line with the tasks per second."""
    from django.core import mail
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(status="READY").count()
    if not queued:
        return None
    mail.outbox = []
    profiler = _start_profiler(args)
    started = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    seconds = time.perf_counter() - started
    _print_profile(profiler, args)
    failed = DBTaskResult.objects.filter(status="FAILED").count()
    return {
        "scenario": "worker_drain",
        "tickets": args.tickets,
        "db": args.db,
        "shape": args.shape,
        "tasks": args.tasks,
        "queued": queued,
        "failed": failed,
        "mails": len(mail.outbox),
        "seconds": round(seconds, 2),
        "tasks_per_s": round(queued / seconds, 1) if seconds else None,
    }


def percentile(values, pct):
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def emit(result, args):
    line = json.dumps(result)
    print(line, flush=True)
    if args.out:
        with open(args.out, "a") as out:
            out.write(line + "\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--mail-memory-child"]:
        return mail_memory_child(argv[1])
    args = parse_args(argv)
    db = Database(args.db, name=args.reuse)
    if not args.reuse:
        db.create()
    try:
        configure_django(db, args.tasks)
        started = time.perf_counter()
        if args.reuse:
            fx = reuse_fixture()
            args.tickets = fx.tickets
            args.shape = fx.shape
        else:
            fx = build_fixture(args.tickets, SHAPES[args.shape])
        fx.article_count = args.articles
        print(
            f"# {args.db}: {fx.tickets} tickets ready in {time.perf_counter() - started:.1f} s"
            f" (search index {fx.index_seconds:.1f} s of it)",
            file=sys.stderr,
        )
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        after_clock = AfterResponseClock()
        for name in args.scenarios or SCENARIOS:
            emit(run_scenario(name, fx, args, after_clock), args)
        if args.tasks == "worker":
            drained = worker_throughput(args)
            if drained:
                emit(drained, args)
    finally:
        if args.keep or args.reuse:
            print(f"# kept {db.kind} database {db.name}", file=sys.stderr)
        else:
            db.drop()


if __name__ == "__main__":
    main()
