"""The README is true: a site owner's first hour, from nothing, in a temporary folder.

Builds the wheel of this checkout, makes a new virtualenv, installs Wagtail and runs
``wagtail start``, installs the wheel, applies the README's "Add it to your Wagtail
site" snippets (taken from README.md itself), runs ``check`` and ``migrate``, creates a
support centre and a department through Wagtail's page API, serves the site with
``runserver``, files a ticket anonymously over HTTP (waiting out the honeypot's
minimum fill time, as a person would), opens its private link, and finds the ticket in
the desk's inbox as a superuser.

Slow (a few minutes; pip's cache helps) and needs PyPI or a warm pip cache. Runs once
per CI run, on SQLite: the new site has its own SQLite database whatever WT_DB says.
"""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import readme_snippets

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.install,
    pytest.mark.skipif(
        os.environ.get("WT_DB") == "postgres",
        reason="the install test runs once per CI run, in the SQLite pass; the new site "
        "uses its own SQLite database, so a PostgreSQL pass would repeat it unchanged",
    ),
]

ADMIN_PASSWORD = "install-test-Pa55word"
PIP = ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]


def _tail(text, lines=60):
    return "\n".join((text or "").splitlines()[-lines:])


def run(step, command, *, cwd, env=None, timeout=900):
    """Run one command of a step; a failure names the step it belongs to."""
    try:
        result = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{step}: {' '.join(map(str, command))} took over {timeout} s\n{error}")
    if result.returncode != 0:
        pytest.fail(
            f"{step} failed: {' '.join(map(str, command))} (exit {result.returncode})\n"
            f"--- stdout ---\n{_tail(result.stdout)}\n--- stderr ---\n{_tail(result.stderr)}"
        )
    return result.stdout


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FormParser(HTMLParser):
    """Every form of a page: its action and the names and values of its fields."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif self.forms and tag in ("input", "select") and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio", "submit", "file"):
                return
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif self.forms and tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self.forms[-1]["fields"][self._textarea] = ""

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def forms_of(html):
    parser = FormParser()
    parser.feed(html)
    return parser.forms


class Browser:
    """A visitor with cookies, speaking HTTP to the new site's runserver."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, step, path, data=None):
        url = urllib.parse.urljoin(self.base, path)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=120) as response:
                return response.geturl(), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            page = error.read().decode("utf-8", "replace")
            pytest.fail(f"{step}: {url} answered {error.code}\n{_tail(page, 40)}")
        except urllib.error.URLError as error:
            pytest.fail(f"{step}: {url} could not be reached: {error}")


SETUP_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import Site
from wagtail_tickets.models import DepartmentPage, HelpdeskPage

# README step 5: the Site record gets the address the site is served on.
site = Site.objects.get(is_default_site=True)
site.hostname, site.port = "localhost", {port}
site.save()

# README step 6, through the page API instead of the admin's page editor.
home = site.root_page
helpdesk = home.add_child(instance=HelpdeskPage(title="Support", slug="support"))
helpdesk.save_revision().publish()
department = helpdesk.add_child(
    instance=DepartmentPage(title="Technical support", slug="technical", code_prefix="TECH")
)
department.save_revision().publish()

User = get_user_model()
User.objects.create_superuser("owner", "owner@example.com", "{password}")
print(json.dumps({{
    "helpdesk": helpdesk.url,
    "department": department.url,
    "inbox": reverse("helpdesk_inbox:index"),
    "login": reverse("login"),
}}))
"""


def test_the_readme_install_steps_give_a_working_helpdesk(tmp_path):
    settings_code = readme_snippets.snippet("settings")
    urls_code = readme_snippets.snippet("urls")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "WT_", "PG", "VIRTUAL_ENV", "PYTHON"))
    }

    # The package, as README step 1 builds it from a clone.
    dist = tmp_path / "dist"
    run(
        "README step 1 (building the wheel: python -m build --wheel)",
        [sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO],
        cwd=tmp_path,
        env=env,
    )
    wheels = list(dist.glob("wagtail_tickets-*.whl"))
    assert len(wheels) == 1, f"README step 1: expected one wheel in {dist}, found {wheels}"

    # A new Wagtail site, as Wagtail's own documentation makes one.
    venv = tmp_path / "venv"
    run("Making the site's virtualenv", [sys.executable, "-m", "venv", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    run("Installing Wagtail (pip install wagtail)", [python, *PIP, "wagtail"], cwd=tmp_path)
    run("wagtail start mysite", [venv / "bin" / "wagtail", "start", "mysite"], cwd=tmp_path)
    site_dir = tmp_path / "mysite"
    manage = [python, site_dir / "manage.py"]

    run("README step 1 (pip install of the wheel)", [python, *PIP, wheels[0]], cwd=tmp_path)

    settings_file = site_dir / "mysite" / "settings" / "base.py"
    settings_file.write_text(
        readme_snippets.apply_settings(settings_file.read_text(), settings_code)
    )
    urls_file = site_dir / "mysite" / "urls.py"
    urls_file.write_text(readme_snippets.apply_urls(urls_file.read_text(), urls_code))

    site_env = {**env, "DJANGO_SETTINGS_MODULE": "mysite.settings.dev"}
    run(
        f"{readme_snippets.SETTINGS_STEP} and {readme_snippets.URLS_STEP}: manage.py check",
        [*manage, "check"],
        cwd=site_dir,
        env=site_env,
    )
    run(
        "README step 4 (manage.py migrate)",
        [*manage, "migrate", "--no-input"],
        cwd=site_dir,
        env=site_env,
    )

    port = free_port()
    out = run(
        "README steps 5 and 6 (the Site record, a support centre and a department)",
        [*manage, "shell", "-c", SETUP_SCRIPT.format(port=port, password=ADMIN_PASSWORD)],
        cwd=site_dir,
        env=site_env,
    )
    urls = json.loads(out.strip().splitlines()[-1])

    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=site_dir,
        env=site_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://localhost:{port}"
        _wait_for(server, base)
        _file_a_ticket_and_find_it(base, urls)
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def _wait_for(server, base):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read()
            pytest.fail(f"runserver of the new site stopped:\n{_tail(output)}")
        try:
            with urllib.request.urlopen(base + "/", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers, whatever the home page says
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail("runserver of the new site did not answer within two minutes")


def _file_a_ticket_and_find_it(base, urls):
    visitor = Browser(base)
    step = "Filing a ticket anonymously on the department page"
    _url, page = visitor.open(step, urls["department"])
    ticket_forms = [form for form in forms_of(page) if "subject" in form["fields"]]
    assert ticket_forms, f"{step}: no ticket form on {urls['department']}\n{_tail(page, 40)}"
    fields = dict(ticket_forms[0]["fields"])
    fields.update(
        name="Site Owner",
        email="first.customer@example.com",
        subject="The install guide worked",
        message="Filed on a site set up by following the README.",
    )
    # The honeypot turns away forms sent faster than its minimum fill time (3 s).
    time.sleep(3.5)
    action = urllib.parse.urljoin(base + urls["department"], ticket_forms[0]["action"])
    final_url, thanks = visitor.open(step, action, fields)
    code = re.search(r'id="wt-ticket-code">([A-Z]+-\d+)<', thanks)
    assert code, f"{step}: no ticket code on the page after sending ({final_url})\n{_tail(thanks)}"
    code = code.group(1)
    assert code == "TECH-000001", code

    link = re.search(r'id="wt-private-link" href="([^"]+)"', thanks)
    assert link, f"{step}: no private link on the thank-you page"
    private_link = link.group(1).replace("&amp;", "&")
    assert private_link.startswith(base + "/"), (
        "README step 5: the private link is built from the Site record's hostname and port, "
        f"so it should start with {base}/, but it is {private_link}"
    )
    _url, ticket_page = Browser(base).open("Opening the private link", private_link)
    assert "The install guide worked" in ticket_page, "the private link does not show the ticket"

    step = f"{readme_snippets.URLS_STEP}: the customers' login page"
    _url, login_page = Browser(base).open(step, urls["login"])
    assert any("password" in form["fields"] for form in forms_of(login_page)), (
        f"{step}: {urls['login']} has no login form"
    )

    owner = Browser(base)
    step = "Logging in to the Wagtail admin as the superuser"
    _url, page = owner.open(step, "/admin/login/")
    login = [form for form in forms_of(page) if "password" in form["fields"]]
    assert login, f"{step}: no login form at /admin/login/"
    fields = dict(login[0]["fields"], username="owner", password=ADMIN_PASSWORD)
    action = urllib.parse.urljoin(base + "/admin/login/", login[0]["action"])
    landed, _page = owner.open(step, action, fields)
    assert "/login/" not in landed, f"{step}: the admin refused the superuser's password"
    step = "Finding the ticket in the desk's inbox"
    _url, inbox = owner.open(step, urls["inbox"])
    assert code in inbox, f"{step}: {code} is not listed at {urls['inbox']}\n{_tail(inbox, 40)}"
    assert "The install guide worked" in inbox
