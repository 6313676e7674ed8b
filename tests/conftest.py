import os

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Attachments live outside MEDIA_ROOT (storage.py); each test has its own folder.
    settings.WAGTAIL_TICKETS_PRIVATE_ROOT = str(tmp_path / "private")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language. A request through the test
    client leaves the language LocaleMiddleware chose active in the thread, so without
    this a test after one that asked for Russian ran in Russian."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def helpdesk(db):
    return factories.make_helpdesk()


@pytest.fixture
def department(helpdesk):
    return factories.make_department(helpdesk, title="Technical support", prefix="TECH")


@pytest.fixture
def rich_department(helpdesk):
    """A department with one custom field of every type."""
    return factories.make_department(
        helpdesk, title="Hardware", prefix="HW", fields=factories.ALL_FIELD_TYPES
    )


@pytest.fixture
def site_settings(helpdesk):
    return factories.site_settings(captcha_mode="none")


@pytest.fixture
def customer(db):
    return factories.make_user("alice", email="alice@example.com", first_name="Alice")


@pytest.fixture
def other_customer(db):
    return factories.make_user("bob", email="bob@example.com", first_name="Bob")


@pytest.fixture
def agent(department):
    return factories.make_agent("agent", departments=[department])


@pytest.fixture
def other_agent(helpdesk):
    other = factories.make_department(helpdesk, title="Sales", prefix="SAL")
    return factories.make_agent("otheragent", departments=[other])


@pytest.fixture
def superuser(db):
    return factories.make_user("root", email="root@example.com", is_superuser=True, is_staff=True)


@pytest.fixture
def ticket(department, customer):
    return factories.open_ticket(department, customer=customer)


@pytest.fixture
def anon_ticket(department):
    return factories.open_ticket(department, name="Ann Onymous", email="ann@example.com")


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("WT_DB") == "postgres"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: run with WT_DB=postgres")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


# --- A moved clock ---------------------------------------------------------------------
# WT_TEST_NOW=2027-02-15T12:00:00+00:00 runs the tests as if that moment were now (the
# clock keeps ticking from it), so that code which depends on the day it runs is tried
# on the calendar's awkward days, not only on the day CI happens to run (.ci/run does).

_traveller = None


def pytest_configure(config):
    global _traveller
    moment = os.environ.get("WT_TEST_NOW")
    if moment:
        import time_machine

        _traveller = time_machine.travel(moment, tick=True)
        _traveller.start()


def pytest_unconfigure(config):
    if _traveller is not None:
        _traveller.stop()


def pytest_report_header(config):
    moment = os.environ.get("WT_TEST_NOW")
    if moment:
        return f"clock moved to {moment} (WT_TEST_NOW)"
