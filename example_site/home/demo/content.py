"""Texts of the demo conversations.

Each scenario is an opening message and the replies that follow it, alternating staff
and customer; a ticket uses as many of them as its conversation is long.
"""

TECH = [
    {
        "subject": "Checkout page shows a blank screen",
        "body": (
            "Since this morning our checkout page is completely blank after clicking "
            "'Pay now'. Customers cannot finish orders. We did not change anything."
        ),
        "replies": [
            "Thank you for the report. Could you attach the browser console log from the "
            "checkout page? In most browsers it opens with F12.",
            "Here is the log. The error mentions cart.items.",
            "Thanks, that helped: a payment module update broke the cart summary. We rolled "
            "it back. Could you try again?",
            "It works again, thank you!",
            "Glad to hear it. I am marking this ticket as resolved.",
        ],
        "screenshot": True,
        "log": True,
    },
    {
        "subject": "Images are not uploading in the editor",
        "body": (
            "When I drag a photo into the page editor the progress bar stops at 90% and "
            "nothing happens. Smaller images work."
        ),
        "replies": [
            "How large is the photo, roughly? The limit on your plan is 10 MB per image.",
            "About 14 MB, straight from the camera.",
            "That explains it. Please resize it below 10 MB, or we can raise the limit if "
            "you switch to the Business plan.",
            "Resizing worked. Maybe the editor could say so instead of stopping?",
            "Fair point, I passed it on to the developers as a feature request.",
        ],
        "screenshot": True,
    },
    {
        "subject": "API returns 429 Too Many Requests",
        "body": (
            "Our nightly sync started getting HTTP 429 from /api/v2/products after about "
            "200 requests. Did the rate limit change?"
        ),
        "replies": [
            "Yes, the default limit is now 300 requests per 5 minutes. Do you send them in "
            "parallel?",
            "We use 8 workers in parallel.",
            "Please use the bulk endpoint /api/v2/products/bulk/: one request takes up to "
            "500 items.",
            "Switched to bulk, the sync takes 2 minutes instead of 40. Great.",
        ],
    },
    {
        "subject": "Mobile app crashes on start",
        "body": "The app closes right after the splash screen since the last update.",
        "replies": [
            "Sorry about that. Which phone and system version do you use?",
            "Pixel 6, Android 14.",
            "We reproduced it: a fix is in version 3.4.1, rolling out today.",
            "Updated, the app starts now.",
        ],
    },
    {
        "subject": "Contact form sends no e-mails",
        "body": (
            "Messages from the contact form on our site no longer arrive in our inbox. "
            "They are not in spam either."
        ),
        "replies": [
            "Our logs show the mails are rejected by your mail server because of the "
            "sender address. Did you change the MX or SPF records recently?",
            "Our IT changed the SPF record last week, yes.",
            "Please add include:mail.example.com to the SPF record; the form will then be "
            "delivered again.",
            "Done, the test message arrived.",
            "Excellent. Closing the ticket, write back if it happens again.",
        ],
        "log": True,
    },
    {
        "subject": "Menu overlaps the logo on small screens",
        "body": "On phones the menu button covers half of our logo.",
        "replies": [
            "Could you send a screenshot and tell us which theme you use?",
            "Theme 'Harbour', screenshot attached.",
            "Thanks, it is a bug in the theme. We have fixed it; the change is live.",
        ],
        "screenshot": True,
    },
    {
        "subject": "Search finds nothing after import",
        "body": (
            "We imported 3,000 products yesterday. The shop search does not find any of "
            "them, old products are found."
        ),
        "replies": [
            "The search index is rebuilt every night; large imports appear after the "
            "next rebuild. I have started it manually for your shop.",
            "They are found now, thank you.",
        ],
    },
    {
        "subject": "Two-factor codes are not accepted",
        "body": "The codes from my authenticator app are always 'invalid'.",
        "replies": [
            "This usually means the phone's clock is off. Could you turn on automatic "
            "time in the phone settings and try again?",
            "That was it. Works now.",
        ],
    },
]

BILLING = [
    {
        "subject": "Charged twice for the March invoice",
        "body": "My card was charged twice for invoice INV-2024-0317. Please refund one.",
        "replies": [
            "You are right, the payment went through twice. I have refunded the second "
            "charge; it takes 3-5 working days to appear.",
            "Thank you for the quick answer.",
            "You are welcome. Closing the ticket.",
        ],
        "screenshot": True,
    },
    {
        "subject": "Need an invoice with our VAT number",
        "body": "Please reissue the last invoice with our VAT number DE123456789.",
        "replies": [
            "Done: the corrected invoice is in your account under Billing > Invoices.",
            "Got it, thanks.",
        ],
    },
    {
        "subject": "How do I switch to yearly payment?",
        "body": "We would like to pay yearly instead of monthly. Is there a discount?",
        "replies": [
            "Yes, yearly billing saves two months. You can switch under Billing > Plan; "
            "the remaining days of this month are credited.",
            "Switched. Will the credit show on the next invoice?",
            "Yes, as a separate line at the top.",
        ],
    },
    {
        "subject": "Card payment declined",
        "body": "My payment is declined although the card works everywhere else.",
        "replies": [
            "The bank asked for 3-D Secure confirmation and it timed out. Please try once "
            "more and keep the bank's app open.",
            "Tried again, it still fails.",
            "I see a new decline reason from the bank: 'do not honour'. Please call your "
            "bank; they block the payment on their side.",
            "The bank unblocked it, payment went through.",
        ],
    },
    {
        "subject": "Cancel my subscription",
        "body": "Please cancel my subscription at the end of the current period.",
        "replies": [
            "Cancelled: your plan stays active until the 30th and is not renewed. May we "
            "ask why you are leaving?",
            "We are merging with another company that uses a different system.",
        ],
    },
]

GENERAL = [
    {
        "subject": "Do you offer a discount for non-profits?",
        "body": "We are a small charity. Is there a special price for non-profits?",
        "replies": [
            "Yes: registered non-profits get 50% off any plan. Please send us a copy of "
            "your registration.",
            "Attached, thank you!",
            "The discount is applied to your account.",
        ],
        "screenshot": True,
    },
    {
        "subject": "Partnership proposal",
        "body": (
            "We build booking widgets and would like to offer an integration with your "
            "platform. Who should we talk to?"
        ),
        "replies": [
            "Thank you for your interest. I have forwarded your message to our "
            "partnerships team; they will contact you this week.",
        ],
    },
    {
        "subject": "Is my data stored in the EU?",
        "body": "Before we sign up: where are your servers located?",
        "replies": [
            "All customer data is stored in data centres in Frankfurt and Amsterdam. Our "
            "data processing agreement is on the Legal page.",
            "Perfect, that is what we needed.",
        ],
    },
    {
        "subject": "Feedback on the new dashboard",
        "body": (
            "Just wanted to say the new dashboard is much faster. One wish: let us pin "
            "our favourite reports."
        ),
        "replies": [
            "Thank you, that is nice to hear! Pinned reports are on our roadmap for the autumn.",
        ],
    },
    {
        "subject": "Can I try before buying?",
        "body": "Is there a free trial, and do I need a card for it?",
        "replies": [
            "Yes, 30 days free, no card needed. You can start from the pricing page.",
            "Great, thanks.",
        ],
    },
]

SCENARIOS = {"TECH": TECH, "BILL": BILLING, "GEN": GENERAL}

# Used when a conversation runs longer than its scenario.
STAFF_FILLERS = [
    "Just checking in: is everything working as expected now?",
    "Thanks for the details, we are looking into it.",
]
CUSTOMER_FILLERS = [
    "Thanks, I will check and let you know.",
    "One more question on the same topic: does this also apply to our second site?",
]

INTERNAL_NOTES = [
    "Same issue reported by two other customers this week; linked to the deploy on Monday.",
    "Long-standing customer, please handle with priority.",
    "Checked the logs: nothing unusual on our side.",
]

# The custom answers a technical ticket carries, keyed by field label.
TECH_ANSWERS = {
    "Product": ["Website builder", "Online shop", "Mobile app", "API"],
    "How bad is it?": [
        "Something looks wrong",
        "A feature does not work",
        "Nothing works at all",
    ],
    "Page where it happens": ["https://shop.example.com/checkout/", "https://example.org/", ""],
    "Browsers": [["Firefox"], ["Chrome", "Edge"], ["Safari"], []],
    "Order number": ["10452", "20981", None],
}

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
]
