"""Settings of the worker test (tests/test_worker.py): a file SQLite database that a
separate ``db_worker`` process can open, django-tasks-db's queue, mail to files."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["WT_WORKER_DB"],
        "OPTIONS": {"timeout": 20},
    }
}
INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["WT_WORKER_MAIL_DIR"]
MEDIA_ROOT = os.environ.get("WT_WORKER_MEDIA", "/tmp/wt-worker-media")
