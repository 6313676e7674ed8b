"""The demo's knowledge base: categories and published articles under the support centre,
and page permissions that let the agents draft articles from resolved tickets."""

import json

from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission

from wagtail_tickets.models import ArticlePage, KnowledgeBaseIndexPage

from .people import AGENT_GROUP

KB_INTRO = (
    "<p>Answers to the questions we are asked most. Search first: most problems are "
    "solved here in a minute.</p>"
)

# category slug, title, intro, [(title, summary, department prefix, tags, body blocks)]
CATEGORIES = [
    (
        "getting-started",
        "Getting started",
        "<p>Setting up your account and your first site.</p>",
        [
            (
                "Logging in to your account",
                "How to log in, and what to do when the login form does not accept your password.",
                "TECH",
                ["login", "account"],
                [
                    (
                        "text",
                        "<p>Open the login page and use the e-mail address you "
                        "registered with. Passwords are case-sensitive.</p>",
                    ),
                    (
                        "callout",
                        {
                            "kind": "tip",
                            "text": "<p>Use <b>Forgot password</b> "
                            "on the login form to get a reset link by e-mail.</p>",
                        },
                    ),
                ],
            ),
            (
                "Connecting your own domain",
                "Point your domain's DNS at us and the site answers on it within an hour.",
                "TECH",
                ["domain", "dns"],
                [
                    ("heading", "DNS records"),
                    (
                        "text",
                        "<p>Create a CNAME record for <code>www</code> pointing at "
                        "your site's address, then add the domain in the site settings.</p>",
                    ),
                    (
                        "code",
                        {"language": "text", "code": "www  CNAME  yoursite.sites.example.com."},
                    ),
                    (
                        "callout",
                        {
                            "kind": "note",
                            "text": "<p>DNS changes can take up to 24 hours to reach everyone.</p>",
                        },
                    ),
                ],
            ),
        ],
    ),
    (
        "troubleshooting",
        "Troubleshooting",
        "<p>When something does not work as it should.</p>",
        [
            (
                "Images are not uploading in the editor",
                "Uploads stop at 90% when a file is larger than your plan allows.",
                "TECH",
                ["images", "upload", "editor"],
                [
                    (
                        "text",
                        "<p>Each plan has a largest file size: 10 MB on Start, "
                        "50 MB on Business. Larger uploads stop before they finish.</p>",
                    ),
                    ("heading", "What to do"),
                    ("text", "<p>Resize the photo below the limit, or upgrade the plan.</p>"),
                ],
            ),
            (
                "API returns 429 Too Many Requests",
                "The API allows 300 requests per 5 minutes; use the bulk endpoint for syncs.",
                "TECH",
                ["api", "rate limit"],
                [
                    (
                        "text",
                        "<p>Requests over the limit get HTTP 429 with a "
                        "<code>Retry-After</code> header.</p>",
                    ),
                    (
                        "code",
                        {
                            "language": "shell",
                            "code": "curl -X POST https://api.example.com/v2/products/bulk/ "
                            "\\\n  -H 'Authorization: Bearer $TOKEN' -d @items.json",
                        },
                    ),
                    (
                        "callout",
                        {"kind": "warning", "text": "<p>Parallel workers share one limit.</p>"},
                    ),
                ],
            ),
            (
                "Checkout page shows a blank screen",
                "A blank checkout usually means a payment module failed to load.",
                "TECH",
                ["checkout", "shop"],
                [
                    (
                        "text",
                        "<p>Open the browser console (F12) and look for errors that "
                        "mention the cart. Send us the log if you see one.</p>",
                    ),
                ],
            ),
        ],
    ),
    (
        "billing",
        "Billing and payments",
        "<p>Invoices, payment methods and refunds.</p>",
        [
            (
                "Downloading an invoice as PDF",
                "Every invoice is in Account → Billing, as a PDF to download or print.",
                "BILL",
                ["invoice", "pdf"],
                [
                    (
                        "text",
                        "<p>Go to <b>Account → Billing → Invoices</b> and click the "
                        "invoice number.</p>",
                    ),
                ],
            ),
            (
                "How refunds work",
                "Refunds go back to the card you paid with within 5 working days.",
                "BILL",
                ["refund", "payment"],
                [
                    (
                        "text",
                        "<p>Ask for a refund through the Billing department's form; "
                        "we answer within a working day.</p>",
                    ),
                ],
            ),
        ],
    ),
]


def _publish(page):
    page.save_revision().publish()
    return page


def _body(blocks):
    return json.dumps([{"type": kind, "value": value} for kind, value in blocks])


def ensure_knowledge_base(helpdesk, departments):
    """The knowledge base under the support centre; an existing one is left as it is."""
    kb = KnowledgeBaseIndexPage.objects.child_of(helpdesk).filter(slug="help").first()
    if kb is None:
        kb = helpdesk.add_child(
            instance=KnowledgeBaseIndexPage(title="Knowledge base", slug="help", intro=KB_INTRO)
        )
        _publish(kb)
        for slug, title, intro, articles in CATEGORIES:
            category = kb.add_child(
                instance=KnowledgeBaseIndexPage(title=title, slug=slug, intro=intro)
            )
            _publish(category)
            for article_title, summary, prefix, tags, blocks in articles:
                article = ArticlePage(
                    title=article_title,
                    summary=summary,
                    body=_body(blocks),
                    department=departments.get(prefix),
                )
                category.add_child(instance=article)
                article.tags.add(*tags)
                _publish(article)
    _let_agents_draft(kb)
    return kb


def _let_agents_draft(kb):
    # Agents may add and edit articles (drafts from tickets); publishing stays with editors.
    group = Group.objects.filter(name=AGENT_GROUP).first()
    if group is None:
        return
    for codename in ("add_page", "change_page"):
        permission = Permission.objects.get(
            content_type__app_label="wagtailcore", codename=codename
        )
        GroupPagePermission.objects.get_or_create(group=group, page=kb, permission=permission)
