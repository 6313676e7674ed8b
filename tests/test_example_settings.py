"""The example site refuses to run with debug off and the SECRET_KEY published with it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent / "example_site"
PROBE = "import example_site.settings as s; print('DEBUG', s.DEBUG)"


def _load(probe=PROBE, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EXAMPLE_")}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.update(env, PYTHONPATH=str(SITE))
    return subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        cwd=SITE,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("key", [None, "", "example-site-insecure-demo-key-do-not-deploy"])
def test_debug_off_with_the_published_key_is_refused(key):
    env = {"EXAMPLE_DEBUG": "0"}
    if key is not None:
        env["EXAMPLE_SECRET_KEY"] = key
    result = _load(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EXAMPLE_SECRET_KEY" in result.stderr


def test_debug_off_with_a_key_of_its_own_starts():
    result = _load(EXAMPLE_DEBUG="0", EXAMPLE_SECRET_KEY="a-long-random-value-" + "x" * 40)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


def test_the_demo_with_debug_on_keeps_working():
    result = _load()
    assert result.returncode == 0, result.stderr
    assert "DEBUG True" in result.stdout


def test_the_demo_database_keeps_a_write_ahead_log(tmp_path):
    """The example runs SQLite as the README advises: a commit is one flush, and
    readers do not wait for a writer."""
    probe = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_site.settings'; "
        "django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    result = _load(probe, EXAMPLE_DATABASE=str(tmp_path / "demo.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"
