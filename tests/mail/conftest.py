import pytest

from tests import factories
from tests.mail import helpers


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the block, then its on-commit work (signals, notification tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def mail_site(site_settings):
    """Helpdesk settings that accept the file types of the sample messages."""
    site_settings.allowed_extensions = "jpg jpeg png gif webp pdf txt log csv zip docx pptx"
    site_settings.max_attachments = 10
    site_settings.save()
    return site_settings


@pytest.fixture
def mailbox(department, mail_site):
    return helpers.make_mailbox(department)


@pytest.fixture
def invite_mailbox(department, mail_site):
    return helpers.make_mailbox(department, name="strict", unknown_senders="invite")


@pytest.fixture
def staff_agent(department):
    return factories.make_agent("desk", departments=[department], email="desk@example.com")
