"""The demo's page tree: a home page as the site root, the support centre, departments."""

from wagtail.models import Page, Site

from wagtail_tickets.models import DepartmentPage, HelpdeskPage, Priority, TicketFormField

from ..models import HomePage

SITE_NAME = "Example helpdesk"

HOME_INTRO = (
    "<p>This is a demo site for <b>wagtail-tickets</b>, a helpdesk built into Wagtail. "
    "Visitors file tickets in the support centre; agents answer them in the admin.</p>"
)
SUPPORT_INTRO = (
    "<p>Pick the department that fits your question. One problem per ticket, please: "
    "it gets answered faster.</p>"
)

TECH_FIELDS = [
    {
        "label": "Product",
        "field_type": "dropdown",
        "required": True,
        "choices": "Website builder\nOnline shop\nMobile app\nAPI",
    },
    {
        "label": "How bad is it?",
        "field_type": "radio",
        "required": True,
        "choices": "Something looks wrong\nA feature does not work\nNothing works at all",
    },
    {"label": "Page where it happens", "field_type": "url", "required": False},
    {"label": "When did it start?", "field_type": "date", "required": False},
    {
        "label": "Browsers",
        "field_type": "checkboxes",
        "required": False,
        "choices": "Firefox\nChrome\nSafari\nEdge",
        "help_text": "Where you have seen the problem.",
    },
    {"label": "Order number", "field_type": "number", "required": False},
    {
        "label": "Before you send",
        "field_type": "info",
        "info_text": (
            "<p>Attach a screenshot and, if you have one, the browser console log: "
            "it often saves a round of questions.</p>"
        ),
    },
    {"label": "I have read the FAQ", "field_type": "checkbox", "required": True},
]

BILLING_FIELDS = [
    {
        "label": "Invoice number",
        "field_type": "singleline",
        "required": False,
        "help_text": "Printed at the top of the invoice, e.g. INV-2024-0042.",
    },
]

# slug, title, code prefix, intro, extra page fields, form fields
DEPARTMENTS = [
    (
        "technical",
        "Technical support",
        "TECH",
        "<p>Something broken or behaving oddly? Tell us what you did and what happened.</p>",
        {},
        TECH_FIELDS,
    ),
    (
        "billing",
        "Billing",
        "BILL",
        "<p>Invoices, payments, refunds and plan changes. Log in first so we know your "
        "account.</p>",
        {"submitters": DepartmentPage.Submitters.LOGGED_IN},
        BILLING_FIELDS,
    ),
    (
        "general",
        "General questions",
        "GEN",
        "<p>Anything else: partnerships, feedback, questions before you buy.</p>",
        {},
        [],
    ),
]

THANK_YOU = "<p>Thank you. We usually answer within one working day.</p>"


def _publish(page):
    page.save_revision().publish()
    return page


def _is_pristine_welcome(page):
    # Wagtail's installer creates a plain Page with no children; anything else is
    # somebody's content and stays.
    return page.specific_class is Page and page.numchild == 0


def ensure_home(reset=False):
    """Make a HomePage the default site's root, replacing Wagtail's welcome page."""
    root = Page.get_first_root_node()
    home = HomePage.objects.child_of(root).first()
    if home is not None and not reset:
        # An earlier load set it up; editors may have changed the page or the site since.
        return home
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    if home is None:
        # The welcome page holds the slug "home"; the site must leave it before it goes,
        # because deleting a site's root page deletes the site too.
        if site is not None:
            site.root_page = root
            site.save()
        for page in Page.objects.child_of(root).filter(slug="home"):
            if _is_pristine_welcome(page):
                page.delete()
        taken = Page.objects.child_of(root).filter(slug="home").exists()
        slug = "demo-home" if taken else "home"
        home = root.add_child(instance=HomePage(title="Welcome", slug=slug, intro=HOME_INTRO))
    else:
        home.intro = HOME_INTRO
    _publish(home)
    if site is None:
        site = Site(is_default_site=True, hostname="localhost")
    site.site_name = SITE_NAME
    site.root_page = home
    site.is_default_site = True
    site.save()
    return home


def point_site(home, hostname, port):
    """Give the demo's Site the address it is served on, on every load.

    Links in mails and on the thanks page are built from it, so a demo moved to another
    port must not keep pointing at the old one.
    """
    site = Site.objects.filter(root_page=home).first()
    if site is None:
        return None
    if (site.hostname, site.port) != (hostname, port):
        clash = Site.objects.filter(hostname=hostname, port=port).exclude(pk=site.pk)
        if clash.exists():
            # Another site holds that address; two sites cannot share it.
            return site
        site.hostname, site.port = hostname, port
        site.save()
    return site


def find_helpdesk(home):
    return HelpdeskPage.objects.child_of(home).filter(slug="support").first()


def ensure_helpdesk(home):
    """The support centre and its departments; existing ones are left as they are."""
    helpdesk = find_helpdesk(home)
    if helpdesk is None:
        helpdesk = home.add_child(
            instance=HelpdeskPage(title="Support", slug="support", intro=SUPPORT_INTRO)
        )
        _publish(helpdesk)
    departments = {}
    for slug, title, prefix, intro, extra, fields in DEPARTMENTS:
        page = DepartmentPage.objects.child_of(helpdesk).filter(slug=slug).first()
        if page is None:
            page = _build_department(helpdesk, slug, title, prefix, intro, extra, fields)
        departments[prefix] = page
    return helpdesk, departments


def _build_department(helpdesk, slug, title, prefix, intro, extra, fields):
    page = DepartmentPage(
        title=title,
        slug=slug,
        code_prefix=prefix,
        intro=intro,
        thank_you_text=THANK_YOU,
        **extra,
    )
    if prefix == "BILL":
        page.default_priority = Priority.objects.filter(name="Normal").first()
    for order, spec in enumerate(fields):
        page.form_fields.add(TicketFormField(sort_order=order, **spec))
    helpdesk.add_child(instance=page)
    return _publish(page)
