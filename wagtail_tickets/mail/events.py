"""Every mail the helpdesk sends, as editors see it: the registry of notification events.

For each event: its label, who receives it and in which language, its placeholders (name,
description, how the value is computed from the context the sending code already builds)
and a starting text in the placeholder language (``mail/placeholders.py``) that the
editing screen offers when the event has not been customised yet. An event's name is
also the base name of its shipped template files
(``templates/wagtail_tickets/emails/<event>_subject.txt`` and ``_body.txt``), which are
used whenever no ``NotificationTemplate`` row exists for the event and language.

Sample contexts for previews are in ``mail/samples.py``.

Placeholder values are plain strings. A placeholder marked ``multiline`` may span lines
(message text, custom fields, lists of tickets) and is refused in subjects; one marked
``required`` must appear in the text body (and in the HTML body, when there is one),
because the mail is of no use without it (a private link, a verification link).
"""

from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..money import format_money

CUSTOMER_TICKET = "customer"
STAFF = "staff"
ACCOUNTS = "accounts"
INTAKE = "intake"

GROUPS = {
    CUSTOMER_TICKET: _("Mail to customers about their tickets"),
    STAFF: _("Mail to staff"),
    ACCOUNTS: _("Accounts and paid support"),
    INTAKE: _("Mail intake"),
}

#: Which language a mail is written in.
TICKET_LANGUAGE = _("the ticket's language")
SITE_LANGUAGE = _("the site's language")
VISITOR_LANGUAGE = _("the language the visitor was browsing in")


@dataclass(frozen=True)
class Placeholder:
    name: str
    label: str
    value: object  # callable(context) -> str
    multiline: bool = False
    required: bool = False


@dataclass(frozen=True)
class Event:
    name: str
    label: str
    group: str
    recipients: str
    language: str
    placeholders: tuple
    subject: str
    body: str
    #: Whether a preview may use one of the desk's tickets (else sample data only).
    ticket_preview: bool = False
    #: Anything else an editor should know about this mail.
    note: str = ""
    by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {p.name: p for p in self.placeholders})

    def values(self, context):
        """Every placeholder's value for ``context`` (call inside the mail's language)."""
        return {p.name: _text(p.value(context)) for p in self.placeholders}

    @property
    def multiline_names(self):
        return {p.name for p in self.placeholders if p.multiline}

    @property
    def required_names(self):
        return [p.name for p in self.placeholders if p.required]


def _text(value):
    return "" if value is None else str(value)


# --- how values are computed from the senders' contexts --------------------------------


def _ticket(context):
    return context.get("ticket")


def _attr(obj, name):
    return getattr(obj, name, "") if obj is not None else ""


def _department_title(department):
    return department.title if department is not None else ""


def _date(value, fmt="DATETIME_FORMAT"):
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, fmt)


def _attachment_names(message):
    if message is None:
        return ""
    return ", ".join(a.original_name for a in message.attachments.all())


def field_value(item):
    """A custom field's value as the shipped mails write it (includes/field_value.html)."""
    value = item.get("value")
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _custom_fields(context):
    items = context.get("custom_fields") or []
    return "\n".join(f"{item.get('label', '')}: {field_value(item)}" for item in items)


def _message_text(context):
    return _attr(context.get("message"), "body")


def _rating_links(context):
    """The resolve mail's invitation to rate, with one line per score; empty when the
    ticket has no staff reply to rate or the support centre has no address."""
    rating_links = context.get("rating_links") or []
    if not rating_links:
        return ""
    lines = [f"{link['label']}: {link['url']}" for link in rating_links]
    return "\n\n".join(
        [gettext("How did we do? Choose a score for our last reply:"), "\n".join(lines)]
    )


def _rating_headline(context):
    rating = context.get("rating")
    if context.get("by_customer"):
        return gettext("Reopened by an unhappy customer")
    return gettext("Reply rated %(score)s of 5") % {"score": _attr(rating, "score")}


def _rating_outcome(context):
    if context.get("by_customer"):
        return gettext("The customer has reopened the ticket.")
    if context.get("reopened"):
        return gettext("The ticket has been reopened.")
    return gettext("The customer was offered to reopen the ticket.")


def _replies(context):
    """The customer's replies of one staff mail: one as it is, several with their dates."""
    replies = context.get("replies") or ([context["message"]] if context.get("message") else [])
    more = context.get("more") or 0
    blocks = []
    if more:
        blocks.append(
            ngettext(
                "(%(counter)s earlier reply is not shown here; it is on the ticket.)",
                "(%(counter)s earlier replies are not shown here; they are on the ticket.)",
                more,
            )
            % {"counter": more}
        )
    for reply in replies:
        lines = []
        if len(replies) > 1 or more:
            lines += [f"--- {_date(reply.created_at)} ---", ""]
        lines.append(reply.body)
        names = _attachment_names(reply)
        if names:
            lines += ["", gettext("Attachments:") + " " + names]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _reply_count(context):
    replies = context.get("replies") or ([context["message"]] if context.get("message") else [])
    return len(replies) + (context.get("more") or 0)


def _digest_note(context):
    minutes = context.get("window_minutes")
    if not minutes:
        return ""
    return ngettext(
        "Further replies within %(counter)s minute are collected into one mail.",
        "Further replies within %(counter)s minutes are collected into one mail.",
        minutes,
    ) % {"counter": minutes}


def _merged_tickets(context):
    return "\n".join(f"- {t.code} {t.subject}" for t in context.get("tickets") or [])


def _access_links(context):
    # Code, department and status, not the subject: anyone can file a ticket under any
    # address, and this mail must not carry a stranger's words to its owner.
    blocks = []
    for entry in context.get("entries") or []:
        ticket = entry["ticket"]
        parts = [ticket.code, _department_title(ticket.department), _text(ticket.status)]
        blocks.append(" · ".join(p for p in parts if p) + "\n" + entry["link"])
    return "\n\n".join(blocks)


def echoes_details(context):
    """Whether the confirmation of a new ticket may repeat what was submitted.

    ``show_details`` is set by the sending code (``notifications.ticket_opened``); where it
    is missing the answer is no, as in the shipped files."""
    return bool(context.get("show_details"))


def submitted(value):
    """A value the customer typed, for the confirmation of a new ticket: empty where the
    mail must not repeat the submission (the address was typed into the form by someone
    who may not own it)."""

    def compute(context):
        return value(context) if echoes_details(context) else ""

    return compute


def _confirmation_greeting(context):
    # The shipped file's own strings, so an untouched template reads the same.
    if echoes_details(context):
        return gettext("Hello %(name)s,") % {"name": _ticket(context).customer_name}
    return gettext("Hello,")


def _not_sent_by_you(context):
    if echoes_details(context):
        return ""
    return gettext("If you did not send this request, you can ignore this message.")


def _helpdesk_name(context):
    return _attr(context.get("helpdesk"), "title")


def _entry(context):
    return context.get("entry")


def _form_instructions(context):
    if context.get("login_required") or context.get("paid"):
        return gettext(
            "Please log in to your account, or create one, and open a ticket with the form:"
        )
    return gettext("Please open a ticket with the form:")


def _reset_link(context):
    from django.urls import reverse

    path = reverse(
        "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
    )
    root = context.get("site_root") or f"{context.get('protocol')}://{context.get('domain')}"
    return root.rstrip("/") + path


# --- placeholders shared by many events --------------------------------------------------


def P(name, label, value, **kwargs):  # noqa: N802 - reads as a table row
    return Placeholder(name, label, value, **kwargs)


TICKET = (
    P("ticket_code", _("The ticket's code, e.g. SUP-000123"), lambda c: _ticket(c).code),
    P("ticket_subject", _("The ticket's subject"), lambda c: _ticket(c).subject),
    P("customer_name", _("The customer's name"), lambda c: _ticket(c).customer_name),
    P("customer_email", _("The customer's e-mail address"), lambda c: _ticket(c).customer_email),
    P(
        "department",
        _("The ticket's department"),
        lambda c: _department_title(_ticket(c).department),
    ),
    P("ticket_status", _("The ticket's status"), lambda c: _ticket(c).status),
    P("ticket_priority", _("The ticket's priority"), lambda c: _ticket(c).priority),
    P("helpdesk_name", _("The support centre's title"), _helpdesk_name),
)
TICKET_LINK = P(
    "ticket_link",
    _("The customer's link to the ticket page (signed; it opens the ticket without logging in)"),
    lambda c: c.get("ticket_link") or "",
)
MESSAGE = (
    P("message_text", _("The text of the message"), _message_text, multiline=True),
    P(
        "attachments",
        _("The names of the message's attachments, separated by commas"),
        lambda c: _attachment_names(c.get("message")),
    ),
)
CUSTOM_FIELDS = P(
    "custom_fields",
    _("The department's extra fields as the customer filled them in, one “Label: value” a line"),
    _custom_fields,
    multiline=True,
)
ACCOUNT_NAME = P("customer_name", _("The customer's name"), lambda c: c.get("name") or "")
ACCOUNT_LINK = P(
    "account_link", _("The link to the customer's account page"), lambda c: c.get("account_link")
)
ENTRY_TICKET_CODE = P(
    "ticket_code",
    _("The code of the ticket concerned (empty when none)"),
    lambda c: _attr(_entry(c), "ticket_code"),
)
REASON = P(
    "reason", _("The reason staff gave (empty when none)"), lambda c: _attr(_entry(c), "reason")
)


def _customer_status(context):
    status = _ticket(context).status
    return status.customer_label if status is not None else ""


#: What mail to customers says of a ticket: its status by the name customers see
#: (``Status.customer_name``), never the staff's name for it.
CUSTOMER_TICKET_FIELDS = tuple(
    P("ticket_status", _("The ticket's status, by the name customers see"), _customer_status)
    if p.name == "ticket_status"
    else p
    for p in TICKET
)

#: The confirmation of a new ticket repeats what was typed only where it may
#: (``submitted``): name and subject are empty otherwise.
CONFIRMATION_TICKET = tuple(
    Placeholder(p.name, p.label, submitted(p.value))
    if p.name in ("ticket_subject", "customer_name")
    else p
    for p in CUSTOMER_TICKET_FIELDS
)

HELLO = _("Hello {{ customer_name }},")


def _body(*paragraphs):
    """A starting text: paragraphs joined when it is shown, in the editor's language."""
    from django.utils.functional import lazy

    return lazy(lambda: "\n\n".join(str(p) for p in paragraphs), str)()


EVENTS = (
    Event(
        name="ticket_opened_customer",
        label=_("Ticket received (to the customer)"),
        group=CUSTOMER_TICKET,
        recipients=_("The customer who filed the ticket"),
        language=TICKET_LANGUAGE,
        placeholders=(
            *CONFIRMATION_TICKET,
            P(
                "greeting",
                _(
                    "“Hello” with the customer's name, or without it where the submission "
                    "is not repeated"
                ),
                _confirmation_greeting,
            ),
            TICKET_LINK,
            Placeholder(
                CUSTOM_FIELDS.name,
                CUSTOM_FIELDS.label,
                submitted(CUSTOM_FIELDS.value),
                multiline=True,
            ),
            *(Placeholder(p.name, p.label, submitted(p.value), p.multiline) for p in MESSAGE),
            P(
                "not_sent_by_you",
                _(
                    "Where the submission is not repeated: a sentence telling whoever did not "
                    "send the request to ignore the mail (empty otherwise)"
                ),
                _not_sent_by_you,
            ),
        ),
        note=_(
            "Anyone can type any address into the form, so where the address is not the "
            "submitting account's own the customer's name, the subject, the fields, the "
            "message and its attachments come out empty: the mail must not carry a "
            "stranger's words in the site's name."
        ),
        subject=_("[{{ ticket_code }}] We have received your ticket: {{ ticket_subject }}"),
        body=_body(
            "{{ greeting }}",
            _("Your ticket has been filed with {{ department }}. Its code is {{ ticket_code }}."),
            _("Your private link to follow the ticket, reply and attach files:\n{{ ticket_link }}"),
            _("Keep this link to yourself: anyone who has it can read and answer the ticket."),
            _("Subject: {{ ticket_subject }}\n{{ custom_fields }}"),
            "{{ message_text }}",
            "{{ not_sent_by_you }}",
        ),
        ticket_preview=True,
    ),
    Event(
        name="staff_replied",
        label=_("New reply from staff (to the customer)"),
        group=CUSTOMER_TICKET,
        recipients=_("The ticket's customer"),
        language=TICKET_LANGUAGE,
        placeholders=(*CUSTOMER_TICKET_FIELDS, TICKET_LINK, *MESSAGE),
        subject=_("[{{ ticket_code }}] New reply: {{ ticket_subject }}"),
        body=_body(
            HELLO,
            _("There is a new reply on your ticket {{ ticket_code }}:"),
            "{{ message_text }}",
            _("Status: {{ ticket_status }}"),
            _("Read the conversation and reply:\n{{ ticket_link }}"),
        ),
        ticket_preview=True,
    ),
    Event(
        name="ticket_resolved",
        label=_("Ticket resolved (to the customer)"),
        group=CUSTOMER_TICKET,
        recipients=_("The ticket's customer"),
        language=TICKET_LANGUAGE,
        placeholders=(
            *CUSTOMER_TICKET_FIELDS,
            TICKET_LINK,
            P(
                "rating_links",
                _(
                    "The invitation to rate the last staff reply, with a link per score "
                    "(empty when there is no reply to rate)"
                ),
                _rating_links,
                multiline=True,
            ),
        ),
        subject=_("[{{ ticket_code }}] Resolved: {{ ticket_subject }}"),
        body=_body(
            HELLO,
            _(
                "Your ticket {{ ticket_code }} has been marked as resolved. If the problem is "
                "still there, reply on the ticket page and it will be reopened."
            ),
            "{{ ticket_link }}",
            "{{ rating_links }}",
        ),
        ticket_preview=True,
    ),
    Event(
        name="ticket_closed",
        label=_("Ticket closed (to the customer)"),
        group=CUSTOMER_TICKET,
        recipients=_("The ticket's customer"),
        language=TICKET_LANGUAGE,
        placeholders=(*CUSTOMER_TICKET_FIELDS, TICKET_LINK),
        subject=_("[{{ ticket_code }}] Closed: {{ ticket_subject }}"),
        body=_body(
            HELLO,
            _(
                "Your ticket {{ ticket_code }} has been closed. "
                "You can still reopen it from the ticket page."
            ),
            "{{ ticket_link }}",
        ),
        ticket_preview=True,
    ),
    Event(
        name="tickets_merged",
        label=_("Tickets merged (to the customer)"),
        group=CUSTOMER_TICKET,
        recipients=_("The customer of each merged ticket, once per address"),
        language=TICKET_LANGUAGE,
        placeholders=(
            P("customer_name", _("The customer's name"), lambda c: c.get("customer_name")),
            P(
                "target_code",
                _("The code of the ticket the conversation continues in"),
                lambda c: c["target"].code,
            ),
            P(
                "target_subject",
                _("The subject of the ticket the conversation continues in"),
                lambda c: c["target"].subject,
            ),
            P(
                "merged_tickets",
                _("The customer's merged tickets, one “- code subject” a line"),
                _merged_tickets,
                multiline=True,
            ),
            P(
                "merged_count",
                _("How many of the customer's tickets were merged"),
                lambda c: len(c.get("tickets") or []),
            ),
            P(
                "target_link",
                _(
                    "The link to the ticket the conversation continues in; empty when that "
                    "ticket belongs to another customer"
                ),
                lambda c: c.get("target_link") or "",
            ),
            P("helpdesk_name", _("The support centre's title"), _helpdesk_name),
        ),
        subject=_("Your request continues in ticket {{ target_code }}"),
        body=_body(
            HELLO,
            _(
                "Your tickets below have been merged into {{ target_code }}; "
                "the conversation continues there."
            ),
            "{{ merged_tickets }}",
            _("Read the conversation and reply:\n{{ target_link }}"),
        ),
        ticket_preview=True,
    ),
    Event(
        name="access_links",
        label=_("Private links (to a visitor who asked for them)"),
        group=CUSTOMER_TICKET,
        recipients=_("The address that asked “e-mail me my links”"),
        language=VISITOR_LANGUAGE,
        placeholders=(
            P(
                "links",
                _("Each ticket's code, department, status and private link"),
                _access_links,
                multiline=True,
                required=True,
            ),
            P("helpdesk_name", _("The support centre's title"), _helpdesk_name),
        ),
        subject=_("Links to your support tickets"),
        body=_body(
            _("Hello,"),
            _(
                "Someone, hopefully you, asked for the links to the tickets of this address. "
                "Here they are; links you already have keep working."
            ),
            "{{ links }}",
            # The shipped file's own sentences, so an untouched template reads the same.
            format_lazy(
                "{}\n{}",
                _(
                    "Keep these links to yourself: anyone who has one can read and answer "
                    "the ticket."
                ),
                _("If you did not ask for this, you can ignore this message."),
            ),
        ),
        ticket_preview=True,
    ),
    Event(
        name="ticket_opened_staff",
        label=_("New ticket (to staff)"),
        group=STAFF,
        recipients=_("The assignee, else the department's staff who want new tickets"),
        language=SITE_LANGUAGE,
        placeholders=(*TICKET, CUSTOM_FIELDS, *MESSAGE),
        subject=_("[{{ ticket_code }}] New ticket: {{ ticket_subject }}"),
        body=_body(
            _("A new ticket {{ ticket_code }} has been filed with {{ department }}."),
            _(
                "From: {{ customer_name }} <{{ customer_email }}>\n"
                "Priority: {{ ticket_priority }}\n"
                "Subject: {{ ticket_subject }}\n"
                "{{ custom_fields }}"
            ),
            "{{ message_text }}",
            _("Attachments: {{ attachments }}"),
        ),
        ticket_preview=True,
    ),
    Event(
        name="customer_replied",
        label=_("Customer replied (to staff)"),
        group=STAFF,
        recipients=_("The assignee, else the department's staff who want replies"),
        language=SITE_LANGUAGE,
        placeholders=(
            *TICKET,
            *MESSAGE,
            P(
                "replies",
                _(
                    "The customer's replies of this mail: one reply as it is, several "
                    "(a digest) each under its date, with their attachments"
                ),
                _replies,
                multiline=True,
            ),
            P(
                "reply_count",
                _("How many replies this mail is about (a digest may leave some out)"),
                _reply_count,
            ),
            P(
                "digest_note",
                _("A sentence on how further replies are collected (empty when they are not)"),
                _digest_note,
            ),
        ),
        subject=_("[{{ ticket_code }}] Customer replied: {{ ticket_subject }}"),
        body=_body(
            _("{{ customer_name }} replied on ticket {{ ticket_code }}:"),
            "{{ replies }}",
            _("Status: {{ ticket_status }}\n{{ digest_note }}"),
        ),
        ticket_preview=True,
    ),
    Event(
        name="ticket_assigned",
        label=_("Ticket assigned (to the new assignee)"),
        group=STAFF,
        recipients=_("The staff member the ticket was assigned to"),
        language=SITE_LANGUAGE,
        placeholders=TICKET,
        subject=_("[{{ ticket_code }}] Assigned to you: {{ ticket_subject }}"),
        body=_body(
            _("Ticket {{ ticket_code }} of {{ department }} has been assigned to you."),
            _(
                "From: {{ customer_name }} <{{ customer_email }}>\n"
                "Priority: {{ ticket_priority }}\n"
                "Status: {{ ticket_status }}\n"
                "Subject: {{ ticket_subject }}"
            ),
        ),
        ticket_preview=True,
    ),
    Event(
        name="rating_unhappy",
        label=_("Reply rated 1 or 2, or ticket reopened after it (to staff)"),
        group=STAFF,
        recipients=_("The assignee, or the department's staff when nobody is assigned"),
        language=SITE_LANGUAGE,
        placeholders=(
            *TICKET,
            P(
                "rating_headline",
                _("“Reply rated 2 of 5”, or “Reopened by an unhappy customer”"),
                _rating_headline,
            ),
            P("score", _("The score, 1 to 5"), lambda c: _attr(c.get("rating"), "score")),
            P(
                "rating_comment",
                _("The customer's comment on the rating (empty when none)"),
                lambda c: _attr(c.get("rating"), "comment"),
                multiline=True,
            ),
            P("message_text", _("The rated reply"), _message_text, multiline=True),
            P(
                "outcome",
                _("Whether the ticket was reopened, or the customer was offered to reopen it"),
                _rating_outcome,
            ),
        ),
        subject=_("[{{ ticket_code }}] {{ rating_headline }}: {{ ticket_subject }}"),
        body=_body(
            _("{{ customer_name }} rated a reply on {{ ticket_code }} {{ score }} of 5."),
            _("Their comment:\n{{ rating_comment }}"),
            _("The reply:\n{{ message_text }}"),
            "{{ outcome }}",
        ),
        note=_("Sent in the site's language; replying to it writes to the customer."),
    ),
    Event(
        name="billing_incidents_low",
        label=_("Prepaid incidents running low"),
        group=ACCOUNTS,
        recipients=_("The account's customer"),
        language=TICKET_LANGUAGE,
        placeholders=(
            ACCOUNT_NAME,
            ENTRY_TICKET_CODE,
            P(
                "incidents_left",
                _("Prepaid incidents left (the threshold, or 0)"),
                lambda c: c.get("left"),
            ),
            ACCOUNT_LINK,
        ),
        subject=_("Prepaid incidents left: {{ incidents_left }}"),
        body=_body(
            HELLO,
            _(
                "Your ticket {{ ticket_code }} used a prepaid incident. "
                "Incidents left: {{ incidents_left }}."
            ),
            _("Your account:\n{{ account_link }}"),
        ),
    ),
    Event(
        name="billing_refund",
        label=_("Refund"),
        group=ACCOUNTS,
        recipients=_("The account's customer"),
        language=TICKET_LANGUAGE,
        placeholders=(
            ACCOUNT_NAME,
            P(
                "amount",
                _("The amount refunded, in the site's currency"),
                lambda c: format_money(_entry(c).amount),
            ),
            ENTRY_TICKET_CODE,
            REASON,
            P(
                "balance",
                _("The account's balance after the refund"),
                lambda c: format_money(_entry(c).balance_after),
            ),
            ACCOUNT_LINK,
        ),
        subject=_("Refund of {{ amount }}"),
        body=_body(
            HELLO,
            _(
                "We have refunded {{ amount }} to your account.\n"
                "Ticket: {{ ticket_code }}\n"
                "Reason: {{ reason }}\n"
                "Your balance is now {{ balance }}."
            ),
            "{{ account_link }}",
        ),
    ),
    Event(
        name="billing_incident_returned",
        label=_("Prepaid incident returned"),
        group=ACCOUNTS,
        recipients=_("The account's customer"),
        language=TICKET_LANGUAGE,
        placeholders=(
            ACCOUNT_NAME,
            ENTRY_TICKET_CODE,
            REASON,
            P(
                "incidents_left",
                _("Prepaid incidents left after the return"),
                lambda c: _entry(c).incidents_after,
            ),
            ACCOUNT_LINK,
        ),
        subject=_("Incident of {{ ticket_code }} returned"),
        body=_body(
            HELLO,
            _(
                "The prepaid incident your ticket {{ ticket_code }} used has been given back "
                "to you.\nReason: {{ reason }}\nIncidents left: {{ incidents_left }}."
            ),
            "{{ account_link }}",
        ),
    ),
    Event(
        name="billing_grant_expiring",
        label=_("Prepaid incidents expiring soon"),
        group=ACCOUNTS,
        recipients=_("The account's customer"),
        language=SITE_LANGUAGE,
        placeholders=(
            ACCOUNT_NAME,
            P("pack_name", _("The incident pack's name"), lambda c: c["grant"].pack.name),
            P(
                "incidents_unused",
                _("Incidents of the pack still unused"),
                lambda c: c["grant"].remaining,
            ),
            P(
                "expires_on",
                _("The date the incidents expire"),
                lambda c: _date(c["grant"].expires_at, "DATE_FORMAT"),
            ),
            ACCOUNT_LINK,
        ),
        subject=_("Your prepaid incidents expire on {{ expires_on }}"),
        body=_body(
            HELLO,
            _(
                "Unused incidents of your pack “{{ pack_name }}”: {{ incidents_unused }}. "
                "They expire on {{ expires_on }}."
            ),
            "{{ account_link }}",
        ),
    ),
    Event(
        name="signup_verify",
        label=_("Sign-up: confirm the address"),
        group=ACCOUNTS,
        recipients=_("The address that signed up"),
        language=VISITOR_LANGUAGE,
        placeholders=(
            P("customer_name", _("The name given on the sign-up form"), lambda c: c["signup"].name),
            P(
                "signup_link",
                _("The link that confirms the address and creates the account"),
                lambda c: c.get("link"),
                required=True,
            ),
            P("helpdesk_name", _("The support centre's title"), _helpdesk_name),
        ),
        subject=_("Confirm your e-mail address"),
        body=_body(
            HELLO,
            _("To finish signing up, open this link and confirm your address:"),
            "{{ signup_link }}",
            _("If you did not sign up, ignore this message: no account is made without the link."),
        ),
    ),
    Event(
        name="signup_existing",
        label=_("Sign-up with an address that has an account"),
        group=ACCOUNTS,
        recipients=_("The owner of the existing account"),
        language=VISITOR_LANGUAGE,
        placeholders=(
            ACCOUNT_NAME,
            P("login_link", _("The link to the login page"), lambda c: c.get("login_link")),
            P("helpdesk_name", _("The support centre's title"), _helpdesk_name),
        ),
        subject=_("You already have an account"),
        body=_body(
            HELLO,
            _(
                "Someone, hopefully you, tried to sign up with this address. It already has "
                "an account: log in instead, or reset your password if you have forgotten it."
            ),
            "{{ login_link }}",
            _("If it was not you, you can ignore this message."),
        ),
    ),
    Event(
        name="password_reset",
        label=_("Password reset"),
        group=ACCOUNTS,
        recipients=_("The account's owner"),
        language=VISITOR_LANGUAGE,
        placeholders=(
            P("user_name", _("The account's user name"), lambda c: c["user"].get_username()),
            P("site_name", _("The site's name"), lambda c: c.get("site_name")),
            P(
                "reset_link",
                _("The link to choose a new password"),
                _reset_link,
                required=True,
            ),
        ),
        subject=_("Choose a new password for {{ site_name }}"),
        body=_body(
            _(
                "Someone asked to reset the password of your account at {{ site_name }}. "
                "If it was you, choose a new password here:"
            ),
            "{{ reset_link }}",
            _("Your user name: {{ user_name }}"),
            _("If you did not ask for this, ignore this e-mail: your password stays as it is."),
        ),
    ),
    Event(
        name="mail_unknown_sender",
        label=_("Mail from an unknown sender refused"),
        group=INTAKE,
        recipients=_("The sender (automatic answers to one address are limited)"),
        language=SITE_LANGUAGE,
        placeholders=(
            P(
                "department",
                _("The department the mail was sent to"),
                lambda c: _department_title(c.get("department")),
            ),
            P(
                "original_subject",
                _("The subject of the refused mail"),
                lambda c: c.get("original_subject"),
            ),
            P(
                "form_instructions",
                _("What to do instead (log in first, where the department requires it)"),
                _form_instructions,
            ),
            P(
                "form_link",
                _("The link to the department's form"),
                lambda c: c.get("form_url"),
                required=True,
            ),
        ),
        subject=_("Your message to {{ department }}"),
        body=_body(
            _("Hello,"),
            _(
                "Thank you for writing to {{ department }}. We could not take your e-mail in: "
                "this address does not belong to any of our customers' accounts, so no ticket "
                "was opened."
            ),
            "{{ form_instructions }}\n{{ form_link }}",
            _("This is an automatic answer; you will get it only once a day whatever you write."),
        ),
    ),
)

BY_NAME = {event.name: event for event in EVENTS}


def get(name):
    return BY_NAME.get(name)
