#!/usr/bin/env python
"""Run the example site: ``python example_site/manage.py runserver`` from the repo root."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The site's own package and the checkout's wagtail_tickets must import whatever the
# working directory, and the checkout wins over an installed copy. The site's folder
# goes first so ``example_site`` is this package, not the repo folder of the same name.
for folder in (HERE.parent, HERE):
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    sys.path.insert(0, str(folder))


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
