"""The load: visitors, customers and agents as asyncio tasks over httpx.

Our own client rather than locust: the invariants need a ledger of every answer (which
submission got a 302 and which code, which reply was stored), the fault scenarios run
inside the same process as the load and must know exactly when they struck, and the mix
needs the honeypot's wait between reading and sending a form without holding a thread.
An asyncio client does all of that in one process with a few hundred concurrent
visitors, and has no dependency beyond httpx.

Every request goes to gunicorn as a TLS-terminating proxy would pass it on: with
``X-Forwarded-Proto: https`` and the visitor's own ``X-Forwarded-For`` address. Cookies
are kept per visitor by hand, as the site marks them Secure.
"""

import asyncio
import html
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACCESS_RE = re.compile(r"/support/access/[A-Za-z0-9_:-]+/")
CODE_RE = re.compile(r"\b([A-Z0-9]{2,10}-[0-9]{1,18})\b")
TICKET_LINK_RE = re.compile(r'href="(/admin/helpdesk_tickets/(\d+)/)"')
KB_LINK_RE = re.compile(r'href="(/support/help/[a-z0-9-]+/(?:[a-z0-9-]+/)?)"')
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


class FormParser(HTMLParser):
    """The fields of the first form with a file input or a message textarea: what a
    browser would send if the visitor filled in only what is required."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self.required = []
        self._select = None
        self._select_first = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.setdefault(name, a.get("value", "on"))
                elif "required" in a and name not in self.fields:
                    self.fields[name] = a.get("value", "on")
            elif kind != "file":
                self.fields.setdefault(name, a.get("value", ""))
                if "required" in a:
                    self.required.append((name, kind))
        elif tag == "select" and name:
            self._select = name
            self._select_first = None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if "selected" in a:
                self.fields[self._select] = value
            elif value and self._select_first is None:
                self._select_first = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.setdefault(name, "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self.fields.get(self._select) and self._select_first:
                self.fields[self._select] = self._select_first
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(text):
    parser = FormParser()
    parser.feed(text)
    for name, kind in parser.required:
        if not parser.fields.get(name):
            parser.fields[name] = {
                "email": "someone@load.example",
                "url": "https://example.com/page",
                "date": "2024-01-15",
                "number": "42",
            }.get(kind, "load value")
    return parser.fields


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    statuses: dict = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)
    connection_errors: list = field(default_factory=list)  # (action, path, error)
    unavailable_pages: list = field(default_factory=list)
    timeline: list = field(default_factory=list)

    def record(self, action, status, seconds, path="", body=""):
        self.latencies[action].append(seconds)
        self.statuses[action][status] += 1
        self.timeline.append((time.monotonic(), action, status))
        if status == 0:
            self.connection_errors.append((action, path, body[:200]))
        elif status >= 500:
            if status == 503:
                self.unavailable_pages.append((time.monotonic(), path, body[:2000]))
            else:
                self.server_errors.append((action, status, path, body[:500]))

    def summary(self, duration):
        rows = {}
        for action, values in sorted(self.latencies.items()):
            values = sorted(values)
            n = len(values)

            def pct(p, values=values, n=n):
                return round(values[min(n - 1, int(p * n))] * 1000, 1) if n else None

            rows[action] = {
                "n": n,
                "per_s": round(n / duration, 2) if duration else None,
                "p50_ms": pct(0.50),
                "p95_ms": pct(0.95),
                "p99_ms": pct(0.99),
                "statuses": dict(sorted(self.statuses[action].items())),
                "errors": self.errors[action],
            }
        return rows


@dataclass
class Ledger:
    """What the site answered, to be checked against what it stored and mailed."""

    run: str
    submissions: list = field(default_factory=list)  # (marker, email, status, code)
    customer_replies: list = field(default_factory=list)  # (marker, code, status)
    agent_replies: list = field(default_factory=list)  # (marker, ticket pk, status)
    links: list = field(default_factory=list)  # (code, access path, email)
    burst: dict = field(default_factory=dict)


class Visitor:
    """One browser: its own address, cookies and connection."""

    def __init__(self, load, ip):
        self.load = load
        self.ip = ip
        self.cookies = {}

    def headers(self, extra=None):
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.ip,
            "User-Agent": "wagtail-tickets-load/1",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if extra:
            headers.update(extra)
        return headers

    def _keep_cookies(self, response):
        for line in response.headers.get_list("set-cookie"):
            pair, _, attrs = line.partition(";")
            name, _, value = pair.partition("=")
            if "max-age=0" in attrs.lower() or value == '""':
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    async def request(self, action, method, path, **kwargs):
        load = self.load
        extra = kwargs.pop("headers", None)
        if method == "POST":
            extra = {"Origin": load.origin, "Referer": load.origin + path, **(extra or {})}
        # Timed from when the visitor wanted the page: waiting for a free connection
        # (the client's bound on requests in flight) counts against the site.
        start = time.monotonic()
        try:
            async with load.inflight:
                response = await load.client.request(
                    method, path, headers=self.headers(extra), follow_redirects=False, **kwargs
                )
        except httpx.HTTPError as error:
            load.stats.errors[action] += 1
            load.stats.record(action, 0, time.monotonic() - start, path, repr(error))
            return None
        elapsed = time.monotonic() - start
        self._keep_cookies(response)
        load.stats.record(action, response.status_code, elapsed, path, response.text)
        return response


class Load:
    def __init__(
        self,
        base_url,
        *,
        run,
        duration,
        submit_rate,
        read_rate,
        agents,
        reply_share=0.3,
        attach_share=0.2,
        min_fill=3.0,
        max_visitors=400,
        max_inflight=24,
        departments=("general", "technical"),
        seed=1,
    ):
        self.base_url = base_url
        self.origin = "https://" + base_url.split("://", 1)[1]
        self.duration = duration
        self.submit_rate = submit_rate
        self.read_rate = read_rate
        self.agent_count = agents
        self.reply_share = reply_share
        self.attach_share = attach_share
        self.min_fill = min_fill
        self.departments = departments
        self.random = random.Random(seed)
        self.stats = Stats()
        self.ledger = Ledger(run=run)
        self.slots = asyncio.Semaphore(max_visitors)
        self.max_inflight = max_inflight
        self.counter = 0
        self.ip_counter = 0
        self.stop_at = None
        self.tasks = set()
        self.kb_paths = ["/support/help/"]

    def next_ip(self):
        self.ip_counter += 1
        n = self.ip_counter
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def marker(self, kind):
        self.counter += 1
        return f"{self.ledger.run}-{kind}{self.counter}"

    def running(self):
        return time.monotonic() < self.stop_at

    # --- visitors ------------------------------------------------------------------------

    async def read_session(self):
        async with self.slots:
            visitor = Visitor(self, self.next_ip())
            await visitor.request("support_home", "GET", "/support/")
            response = await visitor.request("kb_index", "GET", "/support/help/")
            if response is not None and response.status_code == 200:
                found = KB_LINK_RE.findall(response.text)
                if found:
                    self.kb_paths = sorted(set(found) | set(self.kb_paths))[:50]
            path = self.random.choice(self.kb_paths)
            response = await visitor.request("kb_page", "GET", path)
            if response is not None and response.status_code == 200:
                articles = [p for p in KB_LINK_RE.findall(response.text) if p.count("/") >= 5]
                if articles:
                    await visitor.request("kb_article", "GET", self.random.choice(articles))

    async def submit_session(self):
        async with self.slots:
            visitor = Visitor(self, self.next_ip())
            await self.submit(visitor, self.random.choice(self.departments))

    async def submit(self, visitor, department, *, wait=None, marker=None, email=None):
        path = f"/support/{department}/"
        response = await visitor.request("form_get", "GET", path)
        if response is None or response.status_code != 200:
            return None
        fields = form_fields(response.text)
        marker = marker or self.marker("t")
        email = email or f"{marker}@load.example"
        fields.update(
            name=f"Visitor {marker}",
            email=email,
            subject=f"Load {marker}",
            message=f"Something is wrong ({marker}). " + "Details follow. " * 20,
            website="",
        )
        # The honeypot refuses forms sent sooner than its minimum time after display.
        await asyncio.sleep(self.min_fill + 0.3 if wait is None else wait)
        files = None
        if self.random.random() < self.attach_share:
            if self.random.random() < 0.5:
                files = [("attachments", ("screenshot.png", PNG, "image/png"))]
            else:
                log = (f"log line {marker}\n" * 200).encode()
                files = [("attachments", ("app.log", log, "text/plain"))]
        response = await visitor.request("submit", "POST", path, data=fields, files=files)
        status = response.status_code if response is not None else 0
        code = None
        link = None
        if status == 302:
            thanks = await visitor.request("thanks", "GET", response.headers["location"])
            if thanks is not None and thanks.status_code == 200:
                found = ACCESS_RE.search(thanks.text)
                link = found.group(0) if found else None
                codes = CODE_RE.findall(html.unescape(thanks.text))
                code = next((c for c in codes if c.startswith(("GEN-", "TECH-"))), None)
        self.ledger.submissions.append((marker, email, status, code))
        if code and link:
            self.ledger.links.append((code, link, email))
        return status

    async def reply_session(self):
        if not self.ledger.links:
            return
        async with self.slots:
            code, link, _email = self.random.choice(self.ledger.links)
            visitor = Visitor(self, self.next_ip())
            response = await visitor.request("access_link", "GET", link)
            if response is None or response.status_code != 302:
                return
            page = response.headers["location"]
            response = await visitor.request("ticket_page", "GET", page)
            if response is None or response.status_code != 200:
                return
            found = CSRF_RE.search(response.text)
            if not found:
                return
            await asyncio.sleep(self.random.uniform(1, 3))
            marker = self.marker("c")
            response = await visitor.request(
                "customer_reply",
                "POST",
                page,
                data={
                    "csrfmiddlewaretoken": found.group(1),
                    "action": "reply",
                    "message": f"More details ({marker}).",
                },
            )
            status = response.status_code if response is not None else 0
            self.ledger.customer_replies.append((marker, code, status))

    # --- agents --------------------------------------------------------------------------

    async def login(self, visitor, username, password):
        response = await visitor.request("agent_login", "GET", "/admin/login/")
        if response is None or response.status_code != 200:
            return False
        token = CSRF_RE.search(response.text).group(1)
        response = await visitor.request(
            "agent_login",
            "POST",
            "/admin/login/",
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": password,
                "next": "/admin/",
            },
        )
        return response is not None and response.status_code == 302

    async def agent(self, username, password):
        visitor = Visitor(self, f"192.168.1.{self.random.randint(2, 250)}")
        while self.running() and not await self.login(visitor, username, password):
            await asyncio.sleep(2)
        while self.running():
            response = await visitor.request("agent_inbox", "GET", "/admin/helpdesk_inbox/")
            if response is None or response.status_code != 200:
                await asyncio.sleep(1)
                continue
            tickets = TICKET_LINK_RE.findall(response.text)
            if not tickets:
                await asyncio.sleep(1)
                continue
            await asyncio.sleep(self.random.uniform(0.5, 1.5))
            path, pk = self.random.choice(tickets[:25])
            response = await visitor.request("agent_ticket", "GET", path)
            if response is None or response.status_code != 200:
                continue
            found = CSRF_RE.search(response.text)
            if not found or self.random.random() < 0.4:
                continue
            await asyncio.sleep(self.random.uniform(1, 2))
            marker = self.marker("a")
            response = await visitor.request(
                "agent_reply",
                "POST",
                f"{path}reply/",
                data={
                    "csrfmiddlewaretoken": found.group(1),
                    "message": f"Thank you, we are looking into it ({marker}).",
                    "time_spent": "",
                    "new_status": "",
                },
            )
            status = response.status_code if response is not None else 0
            self.ledger.agent_replies.append((marker, int(pk), status))
            await asyncio.sleep(self.random.uniform(0.5, 1.5))

    # --- the run -------------------------------------------------------------------------

    def _spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _arrivals(self, rate, make):
        if rate <= 0:
            return
        while self.running():
            self._spawn(make())
            await asyncio.sleep(self.random.expovariate(rate))

    async def run(self, agents):
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        timeout = httpx.Timeout(30.0, connect=10.0)
        async with httpx.AsyncClient(
            base_url=self.base_url, limits=limits, timeout=timeout
        ) as self.client:
            self.stop_at = time.monotonic() + self.duration
            started = time.monotonic()
            self.inflight = asyncio.Semaphore(self.max_inflight)
            workers = [asyncio.ensure_future(self.agent(*agent)) for agent in agents]
            workers += [
                asyncio.ensure_future(self._arrivals(self.submit_rate, self.submit_session)),
                asyncio.ensure_future(self._arrivals(self.read_rate, self.read_session)),
                asyncio.ensure_future(
                    self._arrivals(self.submit_rate * self.reply_share, self.reply_session)
                ),
            ]
            await asyncio.gather(*workers)
            # Sessions under way finish their last request.
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=60)
            self.elapsed = time.monotonic() - started
        return self.elapsed

    async def warm_up(self, rounds=3):
        """Each gunicorn worker's first requests import and compile what the rest reuse
        (templates, URL patterns, translations); a site that has served for a while has
        done so. Sends every page of the mix ``rounds`` times per connection slot so that
        every worker has answered each before the timing starts; nothing is recorded."""
        paths = ["/support/", "/support/help/", "/admin/login/"]
        paths += [f"/support/{department}/" for department in self.departments]
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.255.255.1"}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as client:
            for _ in range(rounds):
                await asyncio.gather(
                    *(client.get(path, headers=headers) for path in paths for _ in range(8))
                )

    async def burst(self, department, count, ip):
        """``count`` submissions from one address at once, after the same wait."""
        limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count)
        async with httpx.AsyncClient(
            base_url=self.base_url, limits=limits, timeout=httpx.Timeout(60.0)
        ) as self.client:
            self.inflight = asyncio.Semaphore(count)
            visitors = [Visitor(self, ip) for _ in range(count)]
            forms = []
            for visitor in visitors:
                response = await visitor.request("form_get", "GET", f"/support/{department}/")
                forms.append(form_fields(response.text))
            await asyncio.sleep(self.min_fill + 0.5)
            path = f"/support/{department}/"

            async def send(visitor, fields):
                marker = self.marker("b")
                fields.update(
                    name="Burst",
                    email=f"{marker}@load.example",
                    subject=f"Load {marker}",
                    message=f"Burst ({marker}).",
                    website="",
                )
                response = await visitor.request("burst_submit", "POST", path, data=fields)
                status = response.status_code if response is not None else 0
                self.ledger.submissions.append((marker, fields["email"], status, None))
                return status

            statuses = await asyncio.gather(
                *(send(visitor, fields) for visitor, fields in zip(visitors, forms, strict=True))
            )
        return Counter(statuses)
