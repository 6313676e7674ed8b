#!/usr/bin/env python
"""django-helpdesk on the workload of ``bench/run.py --shape helpdesk``, timed the same way.

    make bench-peer PEER_ARGS="--tickets 20000 --db postgres"
    .venv-peer/bin/python bench/peer/helpdesk_peer.py --tickets 20000 --db sqlite

Machine speed varies from one session to the next, so figures measured elsewhere cannot
be set beside ours; this script measures django-helpdesk (2.6.1, in its own virtualenv:
``make bench-peer`` builds .venv-peer) in the same sitting as ``bench/run.py --shape
helpdesk``, so that the ratios between the two come from one machine. It imports
nothing of the package; the workload's numbers and words and the timing helpers are
bench/run.py's (loaded from its file, which needs only the standard library).

Django is configured in-process as django-helpdesk's installation documents it, with its
defaults otherwise: the public submit form enabled, notifications rendered and sent
within the request (to the in-memory mail backend), staff seeing every queue. Teams mode
is off (HELPDESK_TEAMS_MODE_ENABLED = False, as its documentation describes), since it
needs the optional pinax-teams. SQLite uses Django's default options in a temporary
file; PostgreSQL a database named dh_bench_<pid>, reached through the PG* environment
variables and dropped at the end (unless --keep).

The data (bulk inserts, random.Random(42)): 5 queues, N tickets spread evenly over them,
each with its description and 4 follow-ups (staff, customer, staff, customer; all
public), 200 customer accounts (the tickets' submitter_email), 10 staff users, the
newest half of the tickets Open or Reopened and from the last 14 days, the rest Resolved
or Closed over the year before, 60 % assigned, priorities 1 to 5, the keyword
"firewall" in 2 % of the titles; then ANALYZE, as bench/run.py does.

Each scenario is timed in-process with django.test.Client as bench/run.py times it
(3 warm-up requests, then --requests timed ones) and printed as one JSON line:

    {"app": "django-helpdesk", "version": ..., "scenario": ..., "tickets": N, "db": ...,
     "shape": "helpdesk", "requests": R, "p50_ms": ..., "p95_ms": ..., "queries": <SQL
     queries of the last request>, "sql_p50_ms": ..., "cpu_p50_ms": ..., "peak_rss_mib": ...}

The ticket list renders its rows from a second, JSON request (DataTables): ``inbox`` and
``inbox_search`` time the HTML page, ``inbox_data`` and ``inbox_search_data`` the first
page of rows the browser then asks for; the page's line adds the pair's sums
(with_data_p50_ms, with_data_queries) when both ran. ``inbox`` is the default view (Open
and Reopened tickets); ``inbox_search`` submits the header's search box (the keyword,
Open, Reopened and Resolved). Each row of the JSON costs queries of its own (time spent,
dependencies, the assignee), so its count moves with the assigned tickets on the first
page. ``submit`` and ``reply`` add the mails their last request sent.
"""

import argparse
import importlib.util
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlencode

# bench/run.py needs nothing but the standard library to be imported: its constants and
# timing helpers serve here too.
_RUN = Path(__file__).resolve().parent.parent / "run.py"
_spec = importlib.util.spec_from_file_location("wt_bench_run", _RUN)
ours = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ours)
describe_failure = ours.describe_failure
SQLClock = ours.SQLClock
percentile = ours.percentile
emit = ours.emit
_high_water_mib = ours._high_water_mib

APP = "django-helpdesk"
SHAPE = "helpdesk"
URLCONF = "helpdesk_peer_urls"

QUEUES = [
    ("Billing", "billing"),
    ("Technical support", "technical-support"),
    ("Sales", "sales"),
    ("Domains", "domains"),
    ("Mail", "mail"),
]
# The workload's numbers and words are bench/run.py's own, so that both measure the same.
_HELPDESK = ours.SHAPES["helpdesk"]
WARMUP = ours.WARMUP
BATCH = ours.BATCH
CUSTOMERS = ours.CUSTOMERS
AGENTS = ours.AGENTS
FOLLOW_UPS = _HELPDESK.messages - 1
ASSIGNED_SHARE = ours.ASSIGNED_SHARE
ACTIVE_SHARE = _HELPDESK.active_share
KEYWORD_SHARE = _HELPDESK.keyword_share
RECENT_DAYS = ours.RECENT_DAYS
PAGE_LENGTH = 25  # the ticket list's rows per page (UserSettings.tickets_per_page)
PRODUCTS = ours.PRODUCTS
PROBLEMS = ours.PROBLEMS
KEYWORD = ours.KEYWORD


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20000, help="tickets to create (20000)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per scenario")
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
        help="keep the database (SQLite file or PostgreSQL database; its name is printed)",
    )
    parser.add_argument(
        "--reuse",
        metavar="NAME",
        help="measure a database kept by an earlier --keep run (SQLite file path or "
        "PostgreSQL database name) instead of building one; --tickets is then read from it",
    )
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.requests < 1:
        parser.error("--tickets and --requests must be at least 1")
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
        self.tmpdir = tempfile.mkdtemp(prefix="dh-bench-")
        self.own_file = os.path.join(self.tmpdir, "bench.sqlite3")
        self.name = name

    def create(self):
        if self.kind == "sqlite":
            self.name = self.own_file
            return
        import psycopg

        self.name = f"dh_bench_{os.getpid()}"
        with psycopg.connect(dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self, keep=False):
        """Drop the database (unless ``keep``) and the temporary directory (unless it
        holds the kept SQLite file)."""
        if keep:
            if self.kind == "postgres" or self.name != self.own_file:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            return
        if self.kind == "postgres" and self.name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def settings(self):
        if self.kind == "sqlite":
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": self.name}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }


def configure_django(db):
    """django-helpdesk's documented installation, its defaults otherwise."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="helpdesk-peer-benchmark",
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django.contrib.sites",
            "django.contrib.humanize",
            "rest_framework",
            "helpdesk",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        ROOT_URLCONF=URLCONF,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.debug",
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ],
                },
            }
        ],
        DATABASES={"default": db.settings()},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        SITE_ID=1,
        USE_TZ=True,
        TIME_ZONE="UTC",
        STATIC_URL="/static/",
        MEDIA_ROOT=os.path.join(db.tmpdir, "media"),
        LOGIN_URL="helpdesk:login",
        LOGIN_REDIRECT_URL="helpdesk:home",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        # Teams need the optional pinax-teams; its documentation turns them off so.
        HELPDESK_TEAMS_MODE_ENABLED=False,
        LOGGING_CONFIG=None,
    )
    # The URLconf: the admin and django-helpdesk at the site's root.
    sys.modules[URLCONF] = types.ModuleType(URLCONF)
    django.setup()
    from django.contrib import admin
    from django.urls import include, path

    sys.modules[URLCONF].urlpatterns = [
        path("admin/", admin.site.urls),
        path("", include("helpdesk.urls")),
    ]


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


@dataclass
class Fixture:
    tickets: int
    queues: list
    agent: object
    ticket: object  # an active ticket with its follow-ups, for the ticket screen
    reply_ticket: object  # another one, for the staff reply


@contextmanager
def explicit_timestamps(model, *names):
    """Let bulk inserts keep the given dates of auto_now / auto_now_add fields."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def build_queues():
    from helpdesk.models import Queue

    Queue.objects.bulk_create(
        [
            Queue(
                title=title,
                slug=slug,
                email_address=f"{slug}@helpdesk.example.com",
                allow_public_submission=True,
            )
            for title, slug in QUEUES
        ]
    )
    return [Queue.objects.get(slug=slug) for _title, slug in QUEUES]


def build_people():
    """200 customers and 10 staff users, each with the UserSettings row that
    django-helpdesk creates when a user is saved (bulk inserts send no signals)."""
    from django.contrib.auth import get_user_model
    from helpdesk.models import UserSettings

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
        + [
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
    users = list(User.objects.order_by("pk"))
    UserSettings.objects.bulk_create([UserSettings(user=u) for u in users])
    customers = [u for u in users if u.username.startswith("customer")]
    agents = sorted((u for u in users if u.is_staff), key=lambda u: u.username)
    return customers, agents


def new_tickets(rng, start, stop, count, queues, customers, agents):
    """The Ticket objects start..stop of count (unsaved), with their follow-ups' times
    and authors attached."""
    from django.utils import timezone
    from helpdesk.models import Ticket

    now = timezone.now()
    active_count = int(count * ACTIVE_SHARE)
    others = [p for p in PRODUCTS if p != KEYWORD]
    tickets = []
    for n in range(start, stop):
        queue = queues[n % len(queues)]
        customer = customers[rng.randrange(len(customers))]
        recent = n >= count - active_count
        if recent:
            created = now - timedelta(minutes=rng.randint(600, RECENT_DAYS * 24 * 60))
        else:
            created = now - timedelta(minutes=rng.randint(RECENT_DAYS * 24 * 60, 365 * 24 * 60))
        steps = sorted(rng.randint(10, 480) for _ in range(FOLLOW_UPS))
        if recent:
            status = rng.choice([Ticket.OPEN_STATUS, Ticket.REOPENED_STATUS])
        else:
            status = rng.choice([Ticket.RESOLVED_STATUS, Ticket.CLOSED_STATUS])
        priority = rng.choice([p for p, _label in Ticket.PRIORITY_CHOICES])
        assignee = rng.choice(agents) if rng.random() < ASSIGNED_SHARE else None
        product = KEYWORD if rng.random() < KEYWORD_SHARE else rng.choice(others)
        title = f"{product.capitalize()} {rng.choice(PROBLEMS)}"
        ticket = Ticket(
            title=title,
            queue=queue,
            created=created,
            modified=created + timedelta(minutes=steps[-1]),
            submitter_email=customer.email,
            assigned_to=assignee,
            status=status,
            priority=priority,
            description=(
                f"Hello,\n\nmy {title.lower()}. It also affects my "
                f"{rng.choice(others)}. Could you check it?\n"
            ),
        )
        ticket.peer_times = [created + timedelta(minutes=m) for m in steps]
        ticket.peer_customer = customer
        ticket.peer_staff = assignee or agents[n % len(agents)]
        tickets.append(ticket)
    return tickets


def follow_ups(ticket):
    """The ticket's 4 follow-ups: staff, customer, staff, customer."""
    from helpdesk.models import FollowUp

    rows = []
    for step, at in enumerate(ticket.peer_times):
        staff = step % 2 == 0
        if staff:
            comment = (
                f"Hello {ticket.peer_customer.get_full_name()},\n\nthank you for writing. "
                f"We have looked at your {ticket.title.split()[0].lower()} and changed the "
                "settings. Please try again.\n\nKind regards"
            )
            title, user = "Comment", ticket.peer_staff
        else:
            comment = "Thank you, it still does not work. Could you look again?\n"
            title, user = f"E-Mail Received from {ticket.submitter_email}", ticket.peer_customer
        rows.append(
            FollowUp(
                ticket_id=ticket.pk, date=at, title=title, comment=comment, public=True, user=user
            )
        )
    return rows


def bulk_tickets(count, queues, customers, agents):
    """N tickets with 4 follow-ups each, written in batches."""
    from django.db import transaction
    from helpdesk.models import FollowUp, Ticket

    rng = random.Random(42)
    with explicit_timestamps(Ticket, "created", "modified"):
        for start in range(0, count, BATCH):
            tickets = new_tickets(
                rng, start, min(start + BATCH, count), count, queues, customers, agents
            )
            with transaction.atomic():
                Ticket.objects.bulk_create(tickets)
                if any(t.pk is None for t in tickets):  # no RETURNING in bulk inserts
                    ids = Ticket.objects.order_by("-pk").values_list("pk", flat=True)
                    for ticket, pk in zip(tickets, reversed(ids[: len(tickets)]), strict=True):
                        ticket.pk = pk
                rows = [row for ticket in tickets for row in follow_ups(ticket)]
                FollowUp.objects.bulk_create(rows, batch_size=BATCH)


def analyze():
    """Give the query planner its statistics, as bench/run.py does after its build."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def fixture(ticket_count):
    """The fixture of the database: the measuring agent and two active tickets of the
    second queue (the oldest two, so a reused database gives the same ones)."""
    from django.contrib.auth import get_user_model
    from helpdesk.models import Queue, Ticket

    queues = [Queue.objects.get(slug=slug) for _title, slug in QUEUES]
    active = Ticket.objects.filter(queue=queues[1], status__in=Ticket.OPEN_STATUSES).order_by("pk")
    pair = list(active[:2])
    if len(pair) < 2:
        raise SystemExit("the second queue needs two active tickets: use more --tickets")
    first, second = pair
    return Fixture(
        tickets=ticket_count,
        queues=queues,
        agent=get_user_model().objects.get(username="agent01"),
        ticket=first,
        reply_ticket=second,
    )


def build_fixture(ticket_count):
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    queues = build_queues()
    customers, agents = build_people()
    bulk_tickets(ticket_count, queues, customers, agents)
    analyze()
    return fixture(ticket_count)


def reuse_fixture():
    from helpdesk.models import Ticket

    return fixture(Ticket.objects.count())


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------


def client(user=None):
    from django.test import Client

    c = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="wt-bench")
    if user is not None:
        c.force_login(user)
    return c


def _reverse(name, *args):
    from django.urls import reverse

    return reverse(name, args=args)


#: The header's search form, as the browser submits it (helpdesk/navigation-header.html).
SEARCH_PARAMS = [
    ("q", KEYWORD),
    ("status", 1),
    ("status", 2),
    ("status", 3),
    ("search_type", "header"),
]


def _list_url(search):
    url = _reverse("helpdesk:list")
    return f"{url}?{urlencode(SEARCH_PARAMS)}" if search else url


def _data_url(c, search):
    """The URL of the rows' JSON request that the ticket list page makes on load."""
    page = c.get(_list_url(search))
    match = re.search(r'"url": "([^"]*/datatables_ticket_list/[^"]*)"', page.content.decode())
    if page.status_code != 200 or match is None:
        raise SystemExit(f"the ticket list ({_list_url(search)}) names no datatables URL")
    # DataTables' first draw: no ordering of its own (order: []), the first page.
    query = {"draw": 1, "start": 0, "length": PAGE_LENGTH, "search[value]": ""}
    query["search[regex]"] = "false"
    return f"{match.group(1)}?{urlencode(query)}"


def scenario_inbox(fx):
    """The agent opens the ticket list (open tickets): the HTML page."""
    c = client(fx.agent)
    url = _list_url(search=False)
    return lambda: c.get(url)


def scenario_inbox_data(fx):
    """The first page of rows the ticket list then loads (25 open tickets, JSON)."""
    c = client(fx.agent)
    url = _data_url(c, search=False)
    return lambda: c.get(url)


def scenario_inbox_search(fx):
    """The agent searches for the keyword from the header's search box: the HTML page."""
    c = client(fx.agent)
    url = _list_url(search=True)
    return lambda: c.get(url)


def scenario_inbox_search_data(fx):
    """The first page of the search's rows (JSON)."""
    c = client(fx.agent)
    url = _data_url(c, search=True)
    return lambda: c.get(url)


def scenario_dashboard(fx):
    """The agent opens the dashboard."""
    c = client(fx.agent)
    url = _reverse("helpdesk:dashboard")
    return lambda: c.get(url)


def scenario_ticket(fx):
    """The agent opens an active ticket with its 4 follow-ups."""
    c = client(fx.agent)
    url = _reverse("helpdesk:view", fx.ticket.pk)
    return lambda: c.get(url)


def _form_url(fx):
    return f"{_reverse('helpdesk:submit')}?{urlencode({'queue': fx.queues[0].slug})}"


def scenario_department_form(fx):
    """An anonymous visitor opens the public submit form, a queue preselected."""
    c = client()
    url = _form_url(fx)
    return lambda: c.get(url)


def scenario_submit(fx):
    """An anonymous visitor files a ticket through the public form."""
    c = client()
    url = _form_url(fx)
    html = c.get(url).content.decode()
    for name in ("queue", "title", "body", "submitter_email", "priority", "due_date"):
        if f'name="{name}"' not in html:
            raise SystemExit(f"submit: the form at {url} has no field {name!r}")
    counter = iter(range(1, 10**9))

    def request():
        n = next(counter)
        return c.post(
            url,
            {
                "queue": str(fx.queues[0].pk),
                "title": f"Payment failed {n}",
                "body": "My card was charged twice.\nPlease refund one payment.",
                "submitter_email": f"visitor{n}@example.com",
                "priority": "3",
                "due_date": "",
            },
        )

    return request


def scenario_reply(fx):
    """The agent posts a public comment, everything else as the ticket screen's form
    has it (status, owner, priority, queue, title unchanged)."""
    c = client(fx.agent)
    ticket = fx.reply_ticket
    url = _reverse("helpdesk:update", ticket.pk)
    counter = iter(range(1, 10**9))

    def request():
        n = next(counter)
        return c.post(
            url,
            {
                "comment": f"Thank you, we have checked it ({n}).",
                "new_status": str(ticket.status),
                "public": "1",
                "time_spent": "",
                "title": ticket.title,
                "owner": str(ticket.assigned_to_id or 0),
                "priority": str(ticket.priority),
                "queue": str(ticket.queue_id),
                "due_date": "",
            },
        )

    return request


#: name: (builder, the status it must answer with, whether its line counts mails)
SCENARIOS = {
    "department_form": (scenario_department_form, 200, False),
    "submit": (scenario_submit, 302, True),
    "inbox": (scenario_inbox, 200, False),
    "inbox_data": (scenario_inbox_data, 200, False),
    "inbox_search": (scenario_inbox_search, 200, False),
    "inbox_search_data": (scenario_inbox_search_data, 200, False),
    "ticket": (scenario_ticket, 200, False),
    "reply": (scenario_reply, 302, True),
    "dashboard": (scenario_dashboard, 200, False),
}
#: A page whose rows come from a second request: the page's scenario and the rows'.
PAGE_DATA = {"inbox": "inbox_data", "inbox_search": "inbox_search_data"}


# --------------------------------------------------------------------------------------
# Timing (as bench/run.py's run_scenario)
# --------------------------------------------------------------------------------------


def helpdesk_version():
    try:
        return version("django-helpdesk")
    except PackageNotFoundError:
        return "unknown"


def run_scenario(name, fx, args):
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    builder, expected, counts_mails = SCENARIOS[name]
    request = builder(fx)
    for _ in range(WARMUP):
        mail.outbox = []
        response = request()
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
    timings, sql_times, cpu_times = [], [], []
    for _ in range(args.requests):
        mail.outbox = []
        sql_clock = SQLClock()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(sql_clock):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = request()
            timings.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.process_time() - cpu_started) * 1000)
        sql_times.append(sql_clock.seconds * 1000)
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
    if args.show_queries:
        for query in captured.captured_queries:
            print(f"[{name}] {query['time']}s {query['sql'][:4000]}", file=sys.stderr)
    result = {
        "app": APP,
        "version": helpdesk_version(),
        "scenario": name,
        "tickets": args.tickets,
        "db": args.db,
        "shape": SHAPE,
        "requests": args.requests,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "queries": len(captured.captured_queries),
        "sql_p50_ms": round(statistics.median(sql_times), 1),
        "cpu_p50_ms": round(statistics.median(cpu_times), 2),
        "peak_rss_mib": round(_high_water_mib(), 1),
    }
    if counts_mails:
        result["mails"] = len(mail.outbox)
    return result


def with_data(page, data):
    """The page's line with the sums of the page and its rows' request."""
    return {
        **page,
        "with_data_p50_ms": round(page["p50_ms"] + data["p50_ms"], 2),
        "with_data_queries": page["queries"] + data["queries"],
    }


def run_all(fx, args):
    """Run the scenarios and print their lines; a page's line waits for its rows'
    scenario when both run, to carry the sums."""
    names = [name for name in SCENARIOS if name in (args.scenarios or SCENARIOS)]
    pages = {data: page for page, data in PAGE_DATA.items()}
    waiting = {}
    for name in names:
        result = run_scenario(name, fx, args)
        if PAGE_DATA.get(name) in names:
            waiting[name] = result
            continue
        if pages.get(name) in waiting:
            emit(with_data(waiting.pop(pages[name]), result), args)
        emit(result, args)


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
        print(
            f"# {args.db}: {fx.tickets} tickets ready in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        if args.out:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        run_all(fx, args)
    finally:
        keep = bool(args.keep or args.reuse)
        if keep:
            print(f"# kept {db.kind} database {db.name}", file=sys.stderr)
        db.drop(keep=keep)


if __name__ == "__main__":
    main()
