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


@pytest.fixture(scope="session")
def dovecot_server():
    """A private Dovecot on loopback for the whole run (IMAP, IMAPS, POP3, POP3S)."""
    from tests.mail.dovecot import Dovecot, binary

    if binary() is None:
        pytest.skip(
            "the dovecot binary is not installed (apt-get install dovecot-imapd "
            "dovecot-pop3d); .ci/run installs it"
        )
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def dovecot(dovecot_server, settings):
    """The Dovecot with empty folders, and its certificate trusted."""
    dovecot_server.empty()
    settings.WAGTAIL_TICKETS_MAIL_CA_FILE = str(dovecot_server.cert)
    return dovecot_server
