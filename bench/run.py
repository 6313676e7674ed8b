#!/usr/bin/env python
"""Request timings and query counts of the main pages, on a database of N tickets.

    python bench/run.py --tickets 10000 --db sqlite
    python bench/run.py --tickets 10000 --db postgres --out bench/out/results.jsonl

Builds a throwaway database with the test settings (SQLite: a temporary file;
PostgreSQL: a database named wt_bench_<pid>, reached through the PG* environment
variables and dropped at the end), fills it, then times each scenario in-process with
django.test.Client and prints one JSON object per line:

    {"scenario": ..., "tickets": N, "db": ..., "requests": R, "p50_ms": ..., "p95_ms": ...,
     "queries": <SQL queries of the last request>, "peak_rss_mib": ...}

A new scenario is a function taking the Fixture and returning a callable that makes one
request and returns the response; add it to SCENARIOS with the status code it must give.
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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARMUP = 3
BATCH = 2000
PREFIX = "BEN"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1000, help="tickets to create (1000)")
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
        "--profile",
        action="store_true",
        help="profile the timed requests with pyinstrument and print the report to stderr",
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

    def __init__(self, kind):
        self.kind = kind
        self.tmpdir = tempfile.mkdtemp(prefix="wt-bench-")
        self.name = None

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

    @property
    def helpdesk_url(self):
        return self.helpdesk.get_url()

    @property
    def department_url(self):
        return self.department.get_url()

    def ticket_url(self, ticket):
        return self.helpdesk_url + self.helpdesk.reverse_subpage("ticket_route", args=[ticket.code])


def build_pages():
    from wagtail.models import Site

    from wagtail_tickets.models import DepartmentPage, HelpdeskPage, TicketFormField

    site = Site.objects.get(is_default_site=True)
    helpdesk = HelpdeskPage(title="Support", slug="support", intro="<p>How can we help?</p>")
    site.root_page.add_child(instance=helpdesk)
    helpdesk.save_revision().publish()
    department = DepartmentPage(
        title="Billing",
        slug="billing",
        code_prefix=PREFIX,
        intro="<p>Questions about invoices and payments.</p>",
    )
    department.form_fields.add(
        TicketFormField(sort_order=0, label="Order number", field_type="singleline", required=True)
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
    return (
        HelpdeskPage.objects.get(pk=helpdesk.pk),
        DepartmentPage.objects.get(pk=department.pk),
    )


def bulk_tickets(department, count):
    """N tickets BEN-000001.. with their messages, written in batches."""
    from django.db import transaction
    from django.utils import timezone

    from wagtail_tickets.models import DepartmentCounter, Message, Priority, Status, Ticket

    rng = random.Random(42)
    statuses = list(Status.objects.all())
    priorities = list(Priority.objects.all())
    now = timezone.now()
    products = ["Hosting", "Domains", "Mail"]
    for start in range(0, count, BATCH):
        numbers = range(start + 1, min(start + BATCH, count) + 1)
        tickets = []
        for number in numbers:
            created = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
            answered = number % 3 == 0
            last = created + timedelta(hours=rng.randint(1, 48)) if answered else created
            email = f"customer{rng.randint(1, max(count // 4, 1))}@example.com"
            tickets.append(
                Ticket(
                    code=f"{PREFIX}-{number:06d}",
                    subject=f"Invoice question number {number}",
                    department=department,
                    status=rng.choice(statuses),
                    priority=rng.choice(priorities),
                    customer_name=email.split("@")[0].title(),
                    customer_email=email,
                    custom_fields=[
                        {
                            "name": "order_number",
                            "label": "Order number",
                            "type": "singleline",
                            "value": str(100000 + number),
                        },
                        {
                            "name": "product",
                            "label": "Product",
                            "type": "dropdown",
                            "value": rng.choice(products),
                        },
                    ],
                    submitter_ip=f"192.0.2.{number % 250 + 1}",
                    access_token_hash=hashlib.sha256(f"bench-{number}".encode()).hexdigest(),
                    language="en",
                    created_at=created,
                    last_message_at=last,
                    last_customer_message_at=created,
                    first_response_at=last if answered else None,
                    message_count=2 if answered else 1,
                )
            )
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
                messages.append(
                    Message(
                        ticket_id=ticket.pk,
                        body="Hello,\n\nmy last invoice looks wrong. Could you check it?\n",
                        author_name=ticket.customer_name,
                        author_email=ticket.customer_email,
                        created_at=ticket.created_at,
                    )
                )
                if ticket.message_count == 2:
                    messages.append(
                        Message(
                            ticket_id=ticket.pk,
                            body="Thank you, we have corrected the invoice.",
                            author_name="Support",
                            is_staff_reply=True,
                            source=Message.Source.STAFF,
                            created_at=ticket.last_message_at,
                        )
                    )
            Message.objects.bulk_create(messages, batch_size=BATCH)
    DepartmentCounter.objects.update_or_create(prefix=PREFIX, defaults={"last_number": count})


def build_fixture(ticket_count):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from wagtail.models import Site

    from wagtail_tickets import workflow
    from wagtail_tickets.models import HelpdeskSettings

    call_command("migrate", verbosity=0, interactive=False)
    helpdesk, department = build_pages()
    User = get_user_model()
    site_settings = HelpdeskSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.captcha_mode = HelpdeskSettings.CaptchaMode.HONEYPOT
    site_settings.min_fill_seconds = 0
    site_settings.anonymous_tickets_per_hour = 32767
    site_settings.save()

    bulk_tickets(department, ticket_count)

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
    return Fixture(
        tickets=ticket_count,
        helpdesk=helpdesk,
        department=department,
        customer=customer,
        superuser=superuser,
        customer_ticket=ticket,
    )


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------


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


# name -> (builder, expected status code)
SCENARIOS = {
    "submit": (scenario_submit, 302),
    "customer_ticket": (scenario_customer_ticket, 200),
    "support_centre": (scenario_support_centre, 200),
    "floor": (scenario_floor, 200),
}


def describe_failure(name, response, expected):
    body = response.content.decode(errors="replace")
    errors = ""
    context = getattr(response, "context", None)
    if context is not None and "form" in context and hasattr(context["form"], "errors"):
        errors = f"\nform errors: {context['form'].errors.as_json()}"
    return f"{name}: expected HTTP {expected}, got {response.status_code}{errors}\n{body[:2000]}"


def run_scenario(name, fx, args):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    builder, expected = SCENARIOS[name]
    request = builder(fx)
    for _ in range(WARMUP):
        response = request()
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
    timings = []
    queries = 0
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    for _ in range(args.requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = request()
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != expected:
            raise SystemExit(describe_failure(name, response, expected))
        queries = len(captured.captured_queries)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False), file=sys.stderr)
    if args.show_queries:
        for query in captured.captured_queries:
            print(f"[{name}] {query['sql'][:300]}", file=sys.stderr)
    return {
        "scenario": name,
        "tickets": args.tickets,
        "db": args.db,
        "requests": args.requests,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "queries": queries,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


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
    db = Database(args.db)
    db.create()
    try:
        configure_django(db)
        started = time.perf_counter()
        fx = build_fixture(args.tickets)
        print(
            f"# {args.db}: {args.tickets} tickets ready in {time.perf_counter() - started:.1f} s",
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
        db.drop()


if __name__ == "__main__":
    main()
