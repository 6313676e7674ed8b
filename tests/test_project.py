"""Project hygiene: migrations match the models, checks are clean, Russian is complete."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
import tomllib
from io import StringIO
from pathlib import Path

import pytest
import wagtail
from django.core.management import call_command
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import wagtail_tickets
from tests import readme_snippets
from wagtail_tickets import checks

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path(wagtail_tickets.__file__).resolve().parent
RU = PACKAGE / "locale" / "ru" / "LC_MESSAGES"


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    try:
        call_command(
            "makemigrations", "wagtail_tickets", check=True, dry_run=True, stdout=out, stderr=out
        )
    except SystemExit as exit:
        pytest.fail(f"makemigrations would write a migration (exit {exit.code}):\n{out.getvalue()}")


def test_system_checks_are_clean_on_the_test_settings():
    # Raises SystemCheckError listing every warning or error.
    call_command("check", fail_level="WARNING", stdout=StringIO())


def _clean_env():
    env = dict(os.environ)
    # pytest-django exports the test settings; the example site must use its own.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_system_checks_are_clean_on_the_example_site():
    manage = REPO / "example_site" / "manage.py"
    assert manage.exists(), "the example site is missing"
    result = subprocess.run(
        [sys.executable, str(manage), "check", "--fail-level", "WARNING"],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _msgfmt_statistics(po_file):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


def _incomplete_entries(po_file):
    """The msgids that are untranslated or fuzzy, for the failure message."""
    found = []
    for flag in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", "--no-wrap", str(po_file)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        found += [
            line[len("msgid ") :]
            for line in result.stdout.splitlines()
            if line.startswith("msgid ") and line != 'msgid ""'
        ]
    return found


def _assert_complete(po_file):
    # e.g. "275 translated messages, 2 fuzzy translations, 3 untranslated messages."
    statistics = _msgfmt_statistics(po_file)
    assert "translated message" in statistics, statistics
    problem = "fuzzy" in statistics or "untranslated" in statistics
    assert not problem, f"{statistics}\n" + "\n".join(_incomplete_entries(po_file))


def test_russian_catalogue_has_no_untranslated_or_fuzzy_entries():
    po_file = RU / "django.po"
    assert po_file.exists()
    _assert_complete(po_file)


def test_russian_mo_is_compiled_from_the_current_po(tmp_path):
    """The shipped .mo holds exactly what the .po says.

    Compares contents rather than file times: a fresh git checkout sets the times in
    whatever order it writes the files.
    """
    po_file, mo_file = RU / "django.po", RU / "django.mo"
    assert mo_file.exists(), "compile the catalogue: django-admin compilemessages"
    fresh_mo = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh_mo), str(po_file)], check=True, timeout=60
    )
    with mo_file.open("rb") as shipped, fresh_mo.open("rb") as compiled:
        shipped_catalogue = gettext.GNUTranslations(shipped)._catalog
        compiled_catalogue = gettext.GNUTranslations(compiled)._catalog
    stale = {
        key
        for key in shipped_catalogue.keys() | compiled_catalogue.keys()
        if shipped_catalogue.get(key) != compiled_catalogue.get(key)
    }
    assert not stale, f"the .mo is out of date for: {sorted(map(str, stale))[:10]}"


def test_russian_catalogue_covers_every_string_in_the_source(tmp_path, monkeypatch):
    """Extracting the messages afresh finds nothing the .po lacks."""
    copy = tmp_path / "wagtail_tickets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["ru"], no_obsolete=True, verbosity=0)
    _assert_complete(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po")


# --- packaging and the README's install path ----------------------------------------------


def _declared_floors():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    floors = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        for specifier in requirement.specifier:
            if specifier.operator == ">=":
                floors[canonicalize_name(requirement.name)] = Version(specifier.version)
    return floors


def test_the_ci_floor_pins_exactly_the_declared_lower_bounds():
    """The floor leg of .ci/run tests the versions pyproject.toml promises, no newer."""
    pins = {}
    for line in (REPO / ".ci" / "floor-constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _sep, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    floors = _declared_floors()
    assert floors["wagtail"] == Version("8.0")
    assert pins == floors


def test_the_readme_has_no_relative_links_for_the_package_index():
    """README.md is the long description on PyPI, where relative images and links break."""
    targets = re.findall(r"\]\(([^)\s]+)\)", (REPO / "README.md").read_text())
    relative = [t for t in targets if not t.startswith(("https://", "http://", "mailto:"))]
    assert relative == []


def _wagtail_start_template(*parts):
    return Path(wagtail.__file__).resolve().parent.joinpath("project_template", *parts)


def test_readme_settings_add_what_a_wagtail_start_site_lacks_and_nothing_twice():
    template = _wagtail_start_template("project_name", "settings", "base.py").read_text()
    start_apps = next(
        ast.literal_eval(node.value)
        for node in ast.parse(template).body
        if isinstance(node, ast.Assign) and node.targets[0].id == "INSTALLED_APPS"
    )
    namespace = {"INSTALLED_APPS": list(start_apps)}
    exec(readme_snippets.snippet("settings"), namespace)
    apps = namespace["INSTALLED_APPS"]
    assert len(apps) == len(set(apps)), "the README adds an app wagtail start lists already"
    assert "wagtail_tickets" in apps
    assert set(checks.REQUIRED_APPS) <= set(apps)
    assert "django_recaptcha" not in apps, "reCAPTCHA is optional"
    assert namespace["LOGIN_URL"] == "login"


def test_readme_urls_go_before_wagtails_catch_all_in_a_wagtail_start_site():
    urls = _wagtail_start_template("project_name", "urls.py").read_text()
    applied = readme_snippets.apply_urls(urls, readme_snippets.snippet("urls"))
    compile(applied, "urls.py", "exec")
    assert applied.index('include("wagtail_tickets.urls")') < applied.index(
        'path("", include(wagtail_urls))'
    )
