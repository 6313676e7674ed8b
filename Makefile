# Development commands for wagtail-tickets.
#
#   make demo   run the example site with demo content at http://localhost:8000/
#               (HOST=0.0.0.0 serves other machines too; name them in EXAMPLE_ALLOWED_HOSTS)
#   make test   run the test suite (WT_DB=postgres uses PostgreSQL through PG* variables)
#
# Everything runs inside a virtualenv in .venv, created on first use.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
PEER_ARGS ?=
LOAD_ARGS ?=
CHROMIUM ?= /usr/bin/chromium

VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# django-helpdesk, the peer measured by bench-peer, in a virtualenv of its own.
PEER_VENV := .venv-peer
PEER_VPY := $(PEER_VENV)/bin/python
PEER_STAMP := $(PEER_VENV)/.installed
MANAGE := $(VPY) example_site/manage.py
# Run django-admin from inside the package so that translation commands only see
# wagtail_tickets/locale, with the repository root importable for tests.settings.
DJANGO_ADMIN := cd wagtail_tickets && PYTHONPATH=$(CURDIR) $(CURDIR)/$(VENV)/bin/django-admin

.DEFAULT_GOAL := help

.PHONY: help install demo test messages compilemessages wheel bench bench-peer load lint clean

help:
	@echo "make demo             install, migrate, load demo content, serve on $(HOST):$(PORT)"
	@echo "make test             run the test suite (PYTEST_ARGS=...; WT_DB=postgres for PostgreSQL)"
	@echo "make messages         update wagtail_tickets/locale/ru/LC_MESSAGES/django.po"
	@echo "make compilemessages  compile the .po files into .mo files"
	@echo "make wheel            build the sdist and wheel into dist/"
	@echo "make bench            run the benchmark (BENCH_ARGS=...)"
	@echo "make bench-peer       django-helpdesk 2.6.1 on the bench's helpdesk workload (PEER_ARGS=...)"
	@echo "make load             the production shape under load and faults (LOAD_ARGS=...)"
	@echo "make lint             ruff check and ruff format --check"

$(VPY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "$(PYTHON) was not found. Python 3.11 or newer is needed: apt-get install python3 python3-venv" >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "Python 3.11 or newer is needed, but $(PYTHON) is $$($(PYTHON) -c 'import platform; print(platform.python_version())')." >&2; \
		echo "Install a newer Python or run make with PYTHON=/path/to/python3.11 or newer." >&2; \
		exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1 || { \
		echo "The Python venv module is missing: apt-get install python3-venv" >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP)

# PORT reaches the example's settings too (the admin's base URL); load_demo gives the
# demo Site the port, so links in mails and on the thanks page follow a move. The task
# worker (django-tasks-db) sends the notifications beside the server; Ctrl-C stops both.
demo: $(STAMP)
	$(MANAGE) migrate
	PORT=$(PORT) $(MANAGE) load_demo --port $(PORT)
	PORT=$(PORT) $(MANAGE) helpdesk_worker --worker-id demo & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	PORT=$(PORT) $(MANAGE) runserver $(HOST):$(PORT)

test: $(STAMP)
	@test -x $(CHROMIUM) || { echo "Chromium is missing: sudo apt-get install chromium" >&2; exit 1; }
	@for tool in msguniq msgfmt; do command -v $$tool >/dev/null 2>&1 || { \
		echo "$$tool is missing (the translation tests need it): sudo apt-get install gettext" >&2; \
		exit 1; }; done
	@command -v pdftotext >/dev/null 2>&1 || { \
		echo "pdftotext is missing (the PDF tests need it): sudo apt-get install poppler-utils" >&2; \
		exit 1; }
	$(VPY) -m pytest $(PYTEST_ARGS)

messages: $(STAMP)
	mkdir -p wagtail_tickets/locale
	$(DJANGO_ADMIN) makemessages -l ru --settings tests.settings

compilemessages: $(STAMP)
	$(DJANGO_ADMIN) compilemessages --settings tests.settings

wheel: $(STAMP)
	$(VPY) -m build

bench: $(STAMP)
	$(VPY) bench/run.py $(BENCH_ARGS)

# The same workload and timing on django-helpdesk, for side-by-side ratios in one sitting
# (bench/peer/helpdesk_peer.py).
$(PEER_VPY):
	$(PYTHON) -m venv $(PEER_VENV)

$(PEER_STAMP): | $(PEER_VPY)
	$(PEER_VPY) -m pip install --disable-pip-version-check 'django-helpdesk==2.6.1' 'psycopg[binary]'
	@touch $@

bench-peer: $(PEER_STAMP)
	$(PEER_VPY) bench/peer/helpdesk_peer.py $(PEER_ARGS)

# PostgreSQL, Redis, gunicorn, the task worker and an SMTP server on loopback, a load and
# fault scenarios; non-zero exit on any broken invariant (bench/load/run.py).
load: $(STAMP)
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server is missing: sudo apt-get install redis-server" >&2; exit 1; }
	$(VPY) bench/load/run.py $(LOAD_ARGS)

lint: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
