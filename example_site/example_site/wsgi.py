"""WSGI entry point: ``gunicorn --chdir example_site example_site.wsgi``."""

import os
import sys
from pathlib import Path

# Same path rule as manage.py: the checkout's wagtail_tickets wins over an installed one.
_REPO = Path(__file__).resolve().parent.parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(1, str(_REPO))

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")

application = get_wsgi_application()
