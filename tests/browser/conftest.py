"""Playwright (sync API) driving Debian's Chromium against pytest-django's live_server.

Playwright's sync API runs an asyncio event loop in the test thread, which makes Django
refuse database access from that thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The
tests only touch the database from the test thread between browser steps, and the live
server answers from its own thread, so the check is switched off here.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so that fixtures can see a failure.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _file_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def screenshot(page, name):
    """Save a full-page screenshot of a step for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_file_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def browser(live_site):
    """A Chromium for one test, started after the test database is set up.

    While Playwright's event loop runs, Django keeps this thread's database connections
    per async context, i.e. apart from the test's own connection: starting the browser
    before the database fixture would skip the serialized-rollback restore, and keeping
    it running past the test would flush the wrong connection. So the browser lives
    strictly inside the database fixture's lifetime.
    """
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Connections opened while the loop ran belong to its context.
            connections.close_all()


@pytest.fixture
def new_context(request, browser):
    """Open browser contexts (fresh cookies each); on failure the last page is saved."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1100, "height": 900})
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make

    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        pages = [page for context in contexts for page in context.pages if not page.is_closed()]
        for number, page in enumerate(reversed(pages)):
            suffix = "" if number == 0 else f"-{number}"
            try:
                screenshot(page, f"{request.node.name}{suffix}")
            except Exception as exc:  # a crashed page must not hide the test's failure
                print(f"Could not save a screenshot: {exc}")
    for context in contexts:
        context.close()


@pytest.fixture
def live_site(live_server, db):
    """Point the default Site at the live server so that links in pages and mails work."""
    from wagtail.models import Site

    parts = urlsplit(live_server.url)
    site = Site.objects.get(is_default_site=True)
    site.hostname = parts.hostname
    site.port = parts.port
    site.save()
    return live_server
