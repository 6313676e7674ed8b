"""The ticket screen: the conversation, the side panels, and its reply and fields forms."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ... import workflow
from ...models import (
    ArticlePage,
    Attachment,
    BouncingAddress,
    Message,
    Priority,
    ReplyDraft,
    Star,
    Status,
    TicketView,
)
from ...models.tickets import attach_lookups, cached_rows
from ...permissions import (
    admin_user_ids,
    may_change_status,
    sees_all_departments,
    visible_tickets,
)
from ...views.utils import client_ip
from ...workflow.desk import VIEW_THROTTLE
from ...workflow.rules import (
    NotAllowed,
    check_may_assign,
    check_may_change_fields,
    check_may_change_status,
)
from ..forms import MAX_MESSAGE as MAX_DRAFT
from ..forms import DeskReplyForm, TicketFieldsForm
from ..inbox_table import url_maker
from ..saved_replies import replies_for
from .common import (
    TicketMixin,
    agent_departments,
    attachment_rules,
    can,
    inbox_url,
    staff_profile,
    url,
)
from .header import TicketHeaderMixin
from .history import recent_entries

VIEWS_SHOWN = 20
OTHER_TICKETS_SHOWN = 20
#: The "Customer's tickets" tab's own content (lazy-panel.js fetches it when the tab is
#: opened): ``?part=customer`` answers with that tab alone, ``?customer_tickets=1`` (the
#: link that works without the script) with the whole screen, the tab filled in.
OTHER_TICKETS_PART = "customer"
OTHER_TICKETS_FULL = "customer_tickets"
#: Messages shown at first, the latest; older ones come in steps of this many.
MESSAGES_SHOWN = 50
#: The most messages one page or step shows, however many are asked for.
MESSAGES_MAX = 5000
#: The reply form's id: the ticket's fields beside the conversation belong to it.
TICKET_FORM_ID = "wt-ticket-form"
OTHER_TICKET_FIELDS = (
    "pk",
    "code",
    "subject",
    "status_id",
    "priority_id",
    "message_count",
    "created_at",
)


def format_custom_value(item):
    value = item.get("value")
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class TicketDetailView(TicketHeaderMixin, TicketMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_tickets/admin/ticket.html"
    header_icon = "help"

    # The merge pointer is read only on the rare merged ticket: each relation joined here
    # costs PostgreSQL planning time on every view of the screen.
    ticket_select_related = ("department", "assignee", "customer")

    # Whether setup() loads what the screen shows (below); the views that change the
    # ticket load only what they need, and load the rest if they show the page again.
    loads_screen = True

    def get_ticket(self):
        """The ticket, with its status and priority from the cached rows."""
        user = self.request.user
        drafts = ReplyDraft.objects.filter(ticket=OuterRef("pk"), user=user)
        if self.loads_screen:
            annotations = {
                "starred": Exists(Star.objects.filter(ticket=OuterRef("pk"), user=user)),
                # The articles panel queries only for tickets that have articles.
                "has_articles": Exists(ArticlePage.objects.filter(source_ticket=OuterRef("pk"))),
                # Mail to the customer stopped after a delivery failure (mail.loops).
                "customer_bouncing": Exists(
                    BouncingAddress.objects.filter(email=Lower(OuterRef("customer_email")))
                ),
                # The agent's kept draft, if any, rides along rather than costing a query.
                **{
                    f"wt_draft_{name}": Subquery(drafts.values(name)[:1])
                    for name in ("body", "is_internal", "updated_at")
                },
            }
        else:
            annotations = {"wt_has_draft": Exists(drafts)}
        ticket = (
            visible_tickets(user)
            .filter(pk=self.kwargs["pk"])
            .select_related(*self.ticket_select_related)
            .annotate(**annotations)
            .first()
        )
        if ticket is None:
            raise Http404
        attach_lookups([ticket])
        return ticket

    def load_screen(self):
        """Load what the screen shows, for a view that did not at setup()."""
        if not self.loads_screen:
            self.loads_screen = True
            self.ticket = self.get_ticket()
            self.__dict__.pop("draft", None)

    @cached_property
    def others(self):
        """The customer's other tickets this user may see, newest first.

        One side of a UNION per way of matching the customer: with an OR, PostgreSQL
        walks every ticket backwards by date looking for a customer with few of them.
        """
        ticket = self.ticket
        matches = []
        if ticket.customer_email:
            matches.append(Q(customer_email=ticket.customer_email))
        if ticket.customer_id:
            matches.append(Q(customer_id=ticket.customer_id))
        if not matches:
            return []
        sides = [
            visible_tickets(self.request.user)
            .filter(match)
            .exclude(pk=ticket.pk)
            .only(*OTHER_TICKET_FIELDS)
            .order_by()
            for match in matches
        ]
        others = list(
            sides[0].union(*sides[1:]).order_by("-created_at", "-pk")[:OTHER_TICKETS_SHOWN]
        )
        attach_lookups(others)
        detail_url = url_maker("helpdesk_tickets:detail")
        for other in others:
            other.detail_url = detail_url(other.pk)
        return others

    def get(self, request, *args, **kwargs):
        if "before" in request.GET:
            # Older messages, for "Show earlier messages" (fetched, or followed without
            # JavaScript from a page that asked for them): the conversation alone.
            return self.older_messages_response()
        if request.GET.get("part") == OTHER_TICKETS_PART:
            return self.other_tickets_response()
        ticket, user = self.ticket, request.user
        now = timezone.now()
        since = now - VIEW_THROTTLE
        # The user's own recent view, if any, comes first: the same query then answers
        # the workflow's "viewed in the last minutes?" question.
        views = list(
            TicketView.objects.filter(ticket=ticket)
            .select_related("user")
            .annotate(
                recent_mine=Case(
                    When(user=user, viewed_at__gte=since, then=Value(0)), default=Value(1)
                )
            )
            .order_by("recent_mine", "-viewed_at", "-pk")[:VIEWS_SHOWN]
        )
        # A recent view older than the customer's latest message is recorded again: the
        # inbox marks a ticket unread until the agent has seen what the customer wrote.
        latest = ticket.last_customer_message_at
        seen = views and views[0].recent_mine == 0
        if seen and latest is not None and views[0].viewed_at < latest:
            seen = False
        if not seen:
            ip = client_ip(request)
            if workflow.record_view(ticket, user, ip=ip, checked=True):
                views.insert(0, TicketView(ticket=ticket, user=user, viewed_at=now, ip_address=ip))
        views.sort(key=lambda view: view.viewed_at, reverse=True)
        self.views = views[:VIEWS_SHOWN]
        return super().get(request, *args, **kwargs)

    # -- data, each loaded once ----------------------------------------------------------

    def load_views(self):
        return list(
            TicketView.objects.filter(ticket=self.ticket)
            .select_related("user")
            .order_by("-viewed_at", "-pk")[:VIEWS_SHOWN]
        )

    @cached_property
    def statuses(self):
        return cached_rows(Status)

    @cached_property
    def profile(self):
        return staff_profile(self.request.user)

    @cached_property
    def can_change_fields(self):
        return can(self.request.user, "change_ticket_fields")

    @cached_property
    def can_assign(self):
        return can(self.request.user, "assign_ticket")

    def assignee_choices(self):
        """Active staff of the ticket's department, those who see all, and the assignee."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Permission

        User = get_user_model()
        permission = Permission.objects.filter(
            codename="view_all_departments", content_type__app_label="wagtail_tickets"
        )
        condition = (
            Q(is_superuser=True)
            | Q(user_permissions__in=permission)
            | Q(groups__permissions__in=permission)
        )
        if self.ticket.department_id:
            condition |= Q(helpdesk_profile__departments=self.ticket.department_id)
        if self.ticket.assignee_id:
            condition |= Q(pk=self.ticket.assignee_id)
        # Only current desk users (active, with admin access); the workflow refuses
        # anyone who cannot see the ticket's department.
        current = Q(pk__in=admin_user_ids())
        if self.ticket.assignee_id:
            current |= Q(pk=self.ticket.assignee_id)
        return list(
            User.objects.filter(condition, current, is_active=True)
            .distinct()
            .order_by("first_name", "last_name", User.USERNAME_FIELD)
        )

    def department_choices(self):
        departments = agent_departments(self.request.user)
        department = self.ticket.department
        if department is not None and department.pk not in {d.pk for d in departments}:
            departments.insert(0, department)
        return departments

    @cached_property
    def draft(self):
        """The agent's kept draft of a reply on this ticket, or None."""
        ticket = self.ticket
        if getattr(ticket, "wt_draft_updated_at", None) is None:
            return None
        return ReplyDraft(
            ticket=ticket,
            user=self.request.user,
            body=ticket.wt_draft_body,
            is_internal=bool(ticket.wt_draft_is_internal),
            updated_at=ticket.wt_draft_updated_at,
        )

    @cached_property
    def can_change_status(self):
        return may_change_status(self.request.user, self.ticket)

    def get_reply_form(self, data=None, files=None):
        initial = {}
        if data is None and self.draft is not None:
            initial = {"message": self.draft.body, "is_internal": self.draft.is_internal}
        return DeskReplyForm(
            data,
            files,
            initial=initial,
            rules=attachment_rules(self.request, self.ticket.department),
            statuses=self.statuses if self.can_change_status else [],
            signature=self.profile.signature if self.profile else "",
            form_id=TICKET_FORM_ID,
        )

    def get_fields_form(self, data=None):
        if not (self.can_change_fields or self.can_assign):
            return None
        return TicketFieldsForm(
            data,
            ticket=self.ticket,
            statuses=self.statuses,
            priorities=cached_rows(Priority) if self.can_change_fields else [],
            departments=self.department_choices() if self.can_change_fields else [],
            assignees=self.assignee_choices() if self.can_assign else [],
            can_change_fields=self.can_change_fields,
            can_assign=self.can_assign,
            form_id=TICKET_FORM_ID,
        )

    @cached_property
    def messages_wanted(self):
        """How many of the latest messages the page shows (``?messages=``, bounded)."""
        try:
            wanted = int(self.request.GET.get("messages", MESSAGES_SHOWN))
        except (TypeError, ValueError):
            wanted = MESSAGES_SHOWN
        return min(max(wanted, MESSAGES_SHOWN), MESSAGES_MAX)

    def conversation(self, limit=None, before=None):
        """The latest ``limit`` messages (before message ``before``), oldest first.

        Each has ``attachment_list``; ``self.has_older`` tells whether older ones exist.
        One query: the messages are picked by a subquery that reads the ticket's message
        index backwards, and their attachments come as columns of a LEFT JOIN rather than
        a second query (one row per attachment costs next to nothing).
        """
        limit = limit or self.messages_wanted
        fields = Attachment._meta.concrete_fields
        names = [field.attname for field in fields]
        columns = {
            f"wt_attachment_{field.attname}": F(f"attachments__{field.name}") for field in fields
        }
        picked = Message.objects.filter(ticket=self.ticket)
        if before is not None:
            cursor = Message.objects.filter(ticket=self.ticket, pk=before).values("created_at")
            picked = picked.filter(
                Q(created_at__lt=Subquery(cursor[:1]))
                | Q(created_at=Subquery(cursor[:1]), pk__lt=before)
            )
        # One more than shown: its presence says that older messages exist.
        picked = picked.order_by("-created_at", "-pk").values("pk")[: limit + 1]
        rows = (
            Message.objects.filter(pk__in=Subquery(picked))
            .select_related("author", "edited_by", "rating")
            .annotate(**columns)
            .order_by("created_at", "pk", "attachments__pk")
        )
        messages = []
        for row in rows:
            if not messages or messages[-1].pk != row.pk:
                row.attachment_list = []
                messages.append(row)
            if row.wt_attachment_id is not None:
                values = [getattr(row, column) for column in columns]
                messages[-1].attachment_list.append(Attachment.from_db(rows.db, names, values))
        self.has_older = len(messages) > limit
        return messages[-limit:] if self.has_older else messages

    def conversation_context(self, conversation):
        """What ticket_conversation.html needs, for the page and for older messages."""
        user = self.request.user
        ticket = self.ticket
        older = None
        if self.has_older and conversation:
            oldest = conversation[0].pk
            shown = len(conversation)
            older = {
                # Without JavaScript: the page again, with more of the latest messages.
                "url": "?"
                + urlencode({**self.query_without("before"), "messages": shown + MESSAGES_SHOWN})
                + f"#message-{oldest}",
                # With JavaScript: the next older step, inserted above.
                "fetch_url": "?" + urlencode({"before": oldest}),
                "hidden_count": max(ticket.message_count - shown, 0),
                "step": MESSAGES_SHOWN,
            }
        if conversation and not self.has_older:
            first = conversation[0].pk
        else:
            first = self.first_message_pk
        return {
            "ticket": ticket,
            "conversation": conversation,
            "older_messages": older,
            "first_message_pk": first,
            "can_edit_messages": can(user, "edit_message"),
            "can_delete_messages": can(user, "delete_message"),
        }

    def query_without(self, *names):
        return {k: v for k, v in self.request.GET.items() if k not in names}

    @cached_property
    def first_message_pk(self):
        """The customer's first message (never deletable): the ticket's oldest."""
        return (
            Message.objects.filter(ticket=self.ticket)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )

    def older_messages_response(self):
        try:
            before = int(self.request.GET["before"])
        except (TypeError, ValueError):
            raise Http404 from None
        if not (0 < before < 2**63):
            raise Http404
        conversation = self.conversation(limit=MESSAGES_SHOWN, before=before)
        context = self.conversation_context(conversation)
        context["older_fragment"] = True
        response = TemplateResponse(
            self.request, "wagtail_tickets/admin/ticket_conversation.html", context
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def other_tickets_response(self):
        """The "Customer's tickets" tab alone. The screen leaves it out: most views of a
        ticket never open it, and its query is the screen's heaviest after the
        conversation's."""
        response = TemplateResponse(
            self.request,
            "wagtail_tickets/admin/ticket_other_tickets.html",
            {"ticket": self.ticket, "other_tickets": self.others},
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def other_tickets_context(self):
        if OTHER_TICKETS_FULL in self.request.GET:
            return {"other_tickets": self.others, "other_tickets_loaded": True}
        base = url("detail", self.ticket.pk)
        return {
            "other_tickets_loaded": False,
            "other_tickets_fetch_url": f"{base}?{urlencode({'part': OTHER_TICKETS_PART})}",
            "other_tickets_url": f"{base}?{urlencode({OTHER_TICKETS_FULL: 1})}#tab-customer",
        }

    def history(self):
        return recent_entries(self.ticket)

    @cached_property
    def bounce(self):
        """The customer's address's delivery failure, read only when there is one."""
        if not self.ticket.customer_bouncing:
            return None
        return BouncingAddress.objects.filter(email=self.ticket.customer_email.lower()).first()

    def get_context_data(self, reply_form=None, fields_form=None, unsent=False, **kwargs):
        self.load_screen()
        context = super().get_context_data(**kwargs)
        ticket = self.ticket
        user = self.request.user
        now = timezone.now()
        conversation = self.conversation()
        custom_fields = [
            {**item, "display": format_custom_value(item)}
            for item in (ticket.custom_fields or [])
            if isinstance(item, dict)
        ]
        context.update(self.conversation_context(conversation))
        reply_form = reply_form or self.get_reply_form()
        context.update(
            reply_form=reply_form,
            ticket_form_id=TICKET_FORM_ID,
            draft=None if reply_form.is_bound else self.draft,
            unsent=unsent,
            saved_replies=[
                (reply, reply.text_for(ticket, user)) for reply in replies_for(user, ticket)
            ],
            note_mode=bool(reply_form["is_internal"].value()),
            fields_form=fields_form or self.get_fields_form(),
            views=self.views if hasattr(self, "views") else self.load_views(),
            **self.other_tickets_context(),
            history=self.history(),
            bounce=self.bounce,
            custom_fields=custom_fields,
            starred=ticket.starred,
            overdue=bool(ticket.due_at and ticket.due_at < now and not ticket.is_archived),
            # Colleagues' addresses are for managers, who see every department.
            show_viewer_ips=sees_all_departments(user),
            can_assign=self.can_assign,
            can_change_fields=self.can_change_fields,
            from_query=self.from_query,
            history_url=url("history", ticket.pk),
            action_urls={
                name: url(name, ticket.pk)
                for name in (
                    "reply",
                    "update",
                    "close",
                    "reopen",
                    "star",
                    "pdf",
                    "discard_draft",
                    "revoke_links",
                    "resume_mail",
                )
            },
        )
        return context


def fields_posted(data):
    """Whether the ticket's fields came with the request (they belong to the reply's form)."""
    return any(key.startswith("fields-") for key in data)


class ReplyView(TicketDetailView):
    """ "Send reply" / "Add internal note": the reply, and the fields the agent changed.

    Also "Insert" of a saved reply without JavaScript: the page again, with the text
    added to what was typed and nothing sent.
    """

    http_method_names = ["post"]
    loads_screen = False

    def post(self, request, *args, **kwargs):
        form = self.get_reply_form(request.POST, request.FILES)
        fields_form = self.get_fields_form(request.POST) if fields_posted(request.POST) else None
        if "insert_saved_reply" in request.POST:
            return self.insert_saved_reply(form, fields_form)
        fields_ok = fields_form is None or fields_form.is_valid()
        if not (form.is_valid() and fields_ok):
            messages.validation_error(request, gettext("The message could not be sent."), form)
            return self.render_invalid(form, fields_form)
        changed = fields_form.changed_values(touched_only=True) if fields_form else {}
        data = form.cleaned_data
        new_status = data.get("new_status")
        if "status" in changed:
            chosen = changed.pop("status")
            if new_status is not None and new_status.pk != chosen.pk:
                form.add_error(
                    "new_status",
                    gettext(
                        "The ticket's fields say “%(fields)s” and this says “%(here)s”: choose one."
                    )
                    % {"fields": chosen, "here": new_status},
                )
                return self.render_invalid(form, fields_form)
            new_status = chosen
        internal = bool(data.get("is_internal"))
        try:
            # The fields are applied after the reply, so they are checked first: a change
            # the agent may not make refuses the whole form rather than half of it.
            check_fields_allowed(request.user, self.ticket, changed)
            workflow.post_reply(
                self.ticket,
                body=form.body(),
                author=request.user,
                by_staff=True,
                is_internal=internal,
                attachments=data.get("attachments") or [],
                time_spent_minutes=data.get("time_spent") or 0,
                new_status=new_status,
            )
        except workflow.WorkflowError as error:
            # Nothing was sent; the page comes back with everything typed (files must
            # be chosen again, as after any refused form).
            form.add_error(None, str(error))
            messages.error(request, gettext("The message could not be sent."))
            status = 403 if isinstance(error, NotAllowed) else 400
            return self.render_invalid(form, fields_form, status=status)
        if self.ticket.wt_has_draft:
            ReplyDraft.objects.filter(ticket=self.ticket, user=request.user).delete()
        if internal:
            messages.success(request, gettext("Internal note added."))
        else:
            messages.success(request, gettext("Reply sent to the customer."))
        if changed:
            return self.apply_fields(changed)
        return redirect(self.ticket_url())

    def render_invalid(self, form, fields_form, status=400):
        context = self.get_context_data(reply_form=form, fields_form=fields_form, unsent=True)
        return self.render_to_response(context, status=status)

    def insert_saved_reply(self, form, fields_form):
        """Add the chosen saved reply below what was typed; send nothing."""
        chosen = {str(reply.pk): reply for reply in replies_for(self.request.user, self.ticket)}
        reply = chosen.get(request_value(self.request, "saved_reply"))
        data = self.request.POST.copy()
        if reply is not None:
            typed = data.get("message", "").rstrip()
            text = reply.text_for(self.ticket, self.request.user)
            data["message"] = f"{typed}\n\n{text}" if typed else text
        form = self.get_reply_form(data, None)
        if fields_form is not None:
            fields_form = self.get_fields_form(data)
        context = self.get_context_data(reply_form=form, fields_form=fields_form, unsent=True)
        if reply is None:
            context["saved_reply_error"] = gettext("Choose a saved reply to insert.")
        # Files are never kept across a page: the form says so beside the field.
        context["files_dropped"] = bool(self.request.FILES)
        return self.render_to_response(context)

    def apply_fields(self, changed):
        """Apply the ticket's fields the agent changed; back to the ticket (or the inbox)."""
        request, ticket, user = self.request, self.ticket, self.request.user
        try:
            fields = {k: changed[k] for k in ("subject", "priority", "department") if k in changed}
            if fields:
                workflow.update_fields(ticket, user=user, **fields)
            if "status" in changed:
                workflow.change_status(ticket, changed["status"], user=user)
            if "assignee" in changed:
                workflow.assign(ticket, changed["assignee"], user=user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
            return redirect(self.ticket_url())
        if changed:
            messages.success(request, gettext("Ticket %(code)s updated.") % {"code": ticket.code})
        if not visible_tickets(user).filter(pk=ticket.pk).exists():
            # Moved to a department the agent does not work in.
            return redirect(inbox_url() or "wagtailadmin_home")
        return redirect(self.ticket_url())


def check_fields_allowed(user, ticket, changed):
    """Raise NotAllowed when ``user`` may not make one of the ``changed`` field changes.

    The workflow asks again when it applies them; the assignee is checked there, against
    the department the ticket ends up in.
    """
    if changed.keys() & {"subject", "priority", "department"}:
        check_may_change_fields(user, ticket, changed.get("department"))
    if "status" in changed:
        check_may_change_status(user, ticket)
    if "assignee" in changed:
        check_may_assign(user, ticket, None)


def request_value(request, name):
    value = request.POST.get(name, "")
    return value if isinstance(value, str) else ""


class UpdateFieldsView(ReplyView):
    """ "Save" beside the fields: applies them; a reply being typed is kept as a draft."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = self.get_fields_form(request.POST)
        if form is None:
            raise PermissionDenied
        if not form.is_valid():
            messages.validation_error(
                request, gettext("The ticket could not be saved due to errors."), form
            )
            reply_form = self.get_reply_form(request.POST, None)
            context = self.get_context_data(
                reply_form=reply_form, fields_form=form, unsent=self.keep_draft()
            )
            return self.render_to_response(context, status=400)
        changed = form.changed_values()
        kept = self.keep_draft()
        try:
            check_fields_allowed(request.user, self.ticket, changed)
        except NotAllowed as error:
            form.add_error(None, str(error))
            messages.error(request, gettext("The ticket could not be saved due to errors."))
            reply_form = self.get_reply_form(request.POST, None)
            context = self.get_context_data(reply_form=reply_form, fields_form=form, unsent=kept)
            return self.render_to_response(context, status=403)
        if kept:
            messages.info(request, gettext("Your unsent reply is kept as a draft."))
        if not changed:
            messages.success(request, gettext("Nothing changed."))
        return self.apply_fields(changed)

    def keep_draft(self):
        """Keep (or drop, when emptied) the agent's unsent text; True when some is kept."""
        body = request_value(self.request, "message").strip()[:MAX_DRAFT]
        drafts = ReplyDraft.objects.filter(ticket=self.ticket, user=self.request.user)
        if not body:
            drafts.delete()
            return False
        internal = bool(self.request.POST.get("is_internal"))
        ReplyDraft.objects.update_or_create(
            ticket=self.ticket,
            user=self.request.user,
            defaults={"body": body, "is_internal": internal, "updated_at": timezone.now()},
        )
        return True


class DiscardDraftView(TicketDetailView):
    http_method_names = ["post"]
    loads_screen = False

    def post(self, request, *args, **kwargs):
        ReplyDraft.objects.filter(ticket=self.ticket, user=request.user).delete()
        messages.success(request, gettext("Draft discarded."))
        return redirect(self.ticket_url())
