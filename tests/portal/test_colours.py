"""Badge colours: the WCAG contrast maths, the text colour every badge uses, the seeded
defaults and the migration that changed them, the editor's hint."""

import itertools
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.template import Context, Template

from tests import factories
from wagtail_tickets import colours
from wagtail_tickets.admin.config.common import contrast_hint
from wagtail_tickets.admin.inbox_table import readable_on
from wagtail_tickets.models import Priority, Status

CSS = Path(colours.__file__).parent / "static" / "wagtail_tickets" / "helpdesk.css"


def _hex(rgb):
    return "#" + "".join(f"{channel:02x}" for channel in rgb)


# --- the maths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        # WCAG's own example of the smallest grey that passes AA on white.
        ("#767676", "#ffffff", 4.54),
        # The review's measurements of the old defaults with white text.
        ("#0891b2", "#ffffff", 3.68),  # Open
        ("#d97706", "#ffffff", 3.19),  # Waiting for customer, High
        ("#16a34a", "#ffffff", 3.30),  # Resolved
    ],
)
def test_contrast_ratio_matches_wcag(first, second, expected):
    assert colours.contrast_ratio(first, second) == pytest.approx(expected, abs=0.005)
    # Symmetric: which colour is the text does not matter.
    assert colours.contrast_ratio(second, first) == pytest.approx(expected, abs=0.005)


def test_relative_luminance_ends_and_middle():
    assert colours.relative_luminance("#000000") == 0
    assert colours.relative_luminance("#ffffff") == pytest.approx(1)
    # sRGB 50 % grey is about 21 % luminance, not 50 %: the curve is not linear.
    assert colours.relative_luminance("#808080") == pytest.approx(0.2159, abs=0.0005)


@pytest.mark.parametrize(
    ("background", "text"),
    [
        ("#ffffff", "#000000"),
        ("#000000", "#ffffff"),
        ("#d97706", "#000000"),  # amber: black reads at 6.59:1, white only at 3.19:1
        ("#0891b2", "#000000"),
        ("#1d4ed8", "#ffffff"),
        ("#b45309", "#ffffff"),
        ("#FFFF00", "#000000"),  # upper case is fine
    ],
)
def test_text_colour_follows_the_background(background, text):
    assert colours.text_colour(background) == text
    # The desk's inbox badges use the same helper.
    assert readable_on(background) == text


def test_the_text_colour_is_the_one_with_more_contrast():
    for rgb in itertools.product(range(0, 256, 17), repeat=3):
        background = _hex(rgb)
        chosen = colours.text_colour(background)
        other = colours.WHITE if chosen == colours.BLACK else colours.BLACK
        assert colours.contrast_ratio(background, chosen) >= colours.contrast_ratio(
            background, other
        )


def test_black_or_white_text_always_reaches_aa():
    """Why the editor's hint never has to warn with black and white text: the better of
    the two reaches 4.58:1 on every colour (least where the ratios cross, at a luminance
    of about 0.179)."""
    worst = min(
        colours.badge_contrast(_hex(rgb)) for rgb in itertools.product(range(0, 256, 5), repeat=3)
    )
    assert 4.58 <= worst < 4.6
    assert all(
        colours.meets_aa(_hex(rgb)) for rgb in itertools.product(range(0, 256, 15), repeat=3)
    )


@pytest.mark.parametrize("junk", [None, "", "red", "#12345", "#1234567", "#gggggg", "#fff"])
def test_unreadable_colours_fall_back_to_grey(junk):
    assert colours.readable(junk) == colours.FALLBACK
    assert colours.text_colour(junk) == colours.text_colour(colours.FALLBACK)
    with pytest.raises(ValueError):
        colours.parse_hex(junk or "")


def test_focus_ring_contrasts_with_white_and_the_page_background():
    css = CSS.read_text()
    variables = dict(re.findall(r"--wt-([a-z-]+):\s*(#[0-9a-fA-F]{6})\b", css))
    focus = variables["focus"]
    assert "var(--wt-focus)" in css
    # White is what forms, cards and the header stand on.
    for background in ("#ffffff", variables["background"]):
        assert colours.contrast_ratio(focus, background) >= 3, background
    # The date field shows the ring while its calendar button has the focus.
    assert re.search(r"input\[type=date\]:focus-within[^{]*\{[^}]*var\(--wt-focus\)", css)


# --- the defaults ----------------------------------------------------------------------


@pytest.mark.django_db
def test_seeded_statuses_and_priorities_meet_aa_with_white_text():
    rows = list(Status.objects.all()) + list(Priority.objects.all())
    assert len(rows) == 9
    for row in rows:
        assert row.text_colour == colours.WHITE, row.name
        assert colours.contrast_ratio(row.colour, colours.WHITE) >= 4.5, row.name


@pytest.mark.django_db
def test_seeded_statuses_have_names_for_customers():
    names = {s.name: (s.customer_name, s.customer_label) for s in Status.objects.all()}
    assert names == {
        "New": ("", "New"),
        "Open": ("In progress", "In progress"),
        "Waiting for customer": ("Waiting for your reply", "Waiting for your reply"),
        "Resolved": ("", "Resolved"),
        "Closed": ("", "Closed"),
    }


@pytest.mark.django_db
def test_customer_label_is_translated_and_falls_back_to_the_name():
    from django.utils import translation

    waiting = Status.objects.get(kind="waiting")
    closed = Status.objects.get(kind="closed")
    with translation.override("ru"):
        assert waiting.customer_label == "Ждёт вашего ответа"
        assert str(waiting) == "Ожидает ответа клиента"
        assert closed.customer_label == "Закрыта"
    own = Status.objects.create(name="Escalated", kind="open", customer_name="")
    assert own.customer_label == "Escalated"
    own.customer_name = "Looked at by a specialist"
    assert own.customer_label == "Looked at by a specialist"


@pytest.mark.django_db
def test_migration_changes_only_what_nobody_changed():
    migration = import_module("wagtail_tickets.migrations.0015_portal")
    # Back to the seeded state, as before the migration, with a manager's changes.
    migration.backwards(global_apps, None)
    Status.objects.update(customer_name="")
    assert Status.objects.get(name="Open").colour == "#0891b2"
    Status.objects.filter(name="Waiting for customer").update(colour="#123456")
    Status.objects.filter(name="Open").update(customer_name="Thanks, we have it")
    Priority.objects.filter(name="High").update(name="Important")  # renamed, colour kept
    Status.objects.filter(name="Resolved").update(colour="#16A34A")  # same colour, upper case

    migration.forwards(global_apps, None)

    status = {s.name: s for s in Status.objects.all()}
    assert status["Open"].colour == "#0e7490"
    assert status["Open"].customer_name == "Thanks, we have it"  # the manager's wording
    assert status["Waiting for customer"].colour == "#123456"  # the manager's colour
    assert status["Waiting for customer"].customer_name == "Waiting for your reply"
    assert status["New"].customer_name == ""
    assert status["New"].colour == "#1d4ed8"
    assert status["Resolved"].colour == "#15803d"
    priority = {p.name: p.colour for p in Priority.objects.all()}
    assert priority["Important"] == "#d97706"  # not the seeded row any more
    assert priority["Urgent"] == "#b91c1c"


# --- where badges are drawn ------------------------------------------------------------


@pytest.mark.django_db
def test_customer_badge_uses_the_customer_name_and_the_text_colour():
    status = Status.objects.get(kind="waiting")
    status.colour = "#fde68a"  # light: black text
    html = Template('{% include "wagtail_tickets/includes/status.html" %}').render(
        Context({"status": status})
    )
    assert "Waiting for your reply" in html and "Waiting for customer" not in html
    assert "--wt-badge: #fde68a" in html and "--wt-badge-text: #000000" in html


@pytest.mark.django_db
def test_badge_in_a_broken_colour_stays_safe():
    status = Status.objects.get(kind="open")
    status.colour = "red; background: url(x)"
    html = Template('{% include "wagtail_tickets/includes/status.html" %}').render(
        Context({"status": status})
    )
    assert "url(" not in html and f"--wt-badge: {colours.FALLBACK}" in html


# --- the editor ------------------------------------------------------------------------


def test_contrast_hint_describes_the_badge():
    assert contrast_hint("#d97706") == {
        "background": "#d97706",
        "text": "#000000",
        "ratio": "6.59",
        "meets_aa": True,
        "aa": "4.5",
    }
    # Rounded down: 4.5826… is shown as 4.58, never more than the badge has.
    assert contrast_hint("#4b7d87")["ratio"] == "4.58"


@pytest.mark.django_db
def test_status_editor_has_customer_name_and_a_live_colour_hint(client):
    from django.urls import reverse

    manager = factories.make_user("manager", is_superuser=True, is_staff=True)
    client.force_login(manager)
    status = Status.objects.get(kind="waiting")
    url = reverse("helpdesk_statuses:edit", args=[status.pk])
    html = client.get(url).content.decode()
    assert 'name="customer_name"' in html and 'value="Waiting for your reply"' in html
    assert 'data-wt-colour-hint="id_colour"' in html
    assert "White text, contrast 5.02:1" in html and "meets WCAG AA (4.5:1)" in html
    assert "admin-colour-contrast.js" in html

    response = client.post(
        url,
        {
            "name": "Waiting for customer",
            "customer_name": "We need your answer",
            "kind": "waiting",
            "colour": "#fde68a",
        },
    )
    assert response.status_code == 302
    status.refresh_from_db()
    assert status.customer_name == "We need your answer"
    listing = client.get(reverse("helpdesk_statuses:index")).content.decode()
    assert "We need your answer" in listing
