"""The ticket screen: the conversation, the side panels, and its reply and fields forms."""

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ... import workflow
from ...models import ArticlePage, Attachment, Message, Priority, Star, Status, TicketView
from ...models.tickets import attach_lookups, cached_rows
from ...permissions import (
    admin_user_ids,
    may_change_status,
    sees_all_departments,
    visible_tickets,
)
from ...views.utils import client_ip
from ...workflow.desk import VIEW_THROTTLE
from ..forms import DeskReplyForm, TicketFieldsForm
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

    def get_ticket(self):
        """The ticket, with its status and priority from the cached rows."""
        user = self.request.user
        ticket = (
            visible_tickets(user)
            .filter(pk=self.kwargs["pk"])
            .select_related(*self.ticket_select_related)
            .annotate(
                starred=Exists(Star.objects.filter(ticket=OuterRef("pk"), user=user)),
                # The articles panel queries only for tickets that have articles.
                has_articles=Exists(ArticlePage.objects.filter(source_ticket=OuterRef("pk"))),
            )
            .first()
        )
        if ticket is None:
            raise Http404
        attach_lookups([ticket])
        return ticket

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
        return others

    def get(self, request, *args, **kwargs):
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
        if not (views and views[0].recent_mine == 0):
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
    def can_change_status(self):
        return may_change_status(self.request.user, self.ticket)

    def get_reply_form(self, data=None, files=None):
        return DeskReplyForm(
            data,
            files,
            rules=attachment_rules(self.request, self.ticket.department),
            statuses=self.statuses if self.can_change_status else [],
            signature=self.profile.signature if self.profile else "",
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
        )

    def conversation(self):
        """The messages in order, each with ``attachment_list``, in one query.

        The attachments come as columns of a LEFT JOIN rather than a second query: the
        screen has a query ceiling, and one row per attachment costs next to nothing.
        """
        fields = Attachment._meta.concrete_fields
        names = [field.attname for field in fields]
        columns = {
            f"wt_attachment_{field.attname}": F(f"attachments__{field.name}") for field in fields
        }
        rows = (
            Message.objects.filter(ticket=self.ticket)
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
        return messages

    def history(self):
        return recent_entries(self.ticket)

    def get_context_data(self, reply_form=None, fields_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.ticket
        user = self.request.user
        now = timezone.now()
        conversation = self.conversation()
        first_pk = conversation[0].pk if conversation else None
        custom_fields = [
            {**item, "display": format_custom_value(item)}
            for item in (ticket.custom_fields or [])
            if isinstance(item, dict)
        ]
        context.update(
            ticket=ticket,
            conversation=conversation,
            first_message_pk=first_pk,
            reply_form=reply_form or self.get_reply_form(),
            fields_form=fields_form or self.get_fields_form(),
            views=self.views if hasattr(self, "views") else self.load_views(),
            other_tickets=self.others,
            history=self.history(),
            custom_fields=custom_fields,
            starred=ticket.starred,
            overdue=bool(ticket.due_at and ticket.due_at < now and not ticket.is_archived),
            # Colleagues' addresses are for managers, who see every department.
            show_viewer_ips=sees_all_departments(user),
            can_edit_messages=can(user, "edit_message"),
            can_delete_messages=can(user, "delete_message"),
            can_assign=self.can_assign,
            can_change_fields=self.can_change_fields,
            from_query=self.from_query,
            history_url=url("history", ticket.pk),
            action_urls={
                name: url(name, ticket.pk)
                for name in ("reply", "update", "close", "reopen", "star", "pdf", "revoke_links")
            },
        )
        return context


class ReplyView(TicketDetailView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = self.get_reply_form(request.POST, request.FILES)
        if not form.is_valid():
            messages.validation_error(request, gettext("The message could not be sent."), form)
            return self.render_to_response(self.get_context_data(reply_form=form), status=400)
        data = form.cleaned_data
        internal = bool(data.get("is_internal"))
        new_status = data.get("new_status")
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
        if internal:
            messages.success(request, gettext("Internal note added."))
        else:
            messages.success(request, gettext("Reply sent to the customer."))
        return redirect(self.ticket_url())


class UpdateFieldsView(TicketDetailView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = self.get_fields_form(request.POST)
        if form is None:
            raise PermissionDenied
        if not form.is_valid():
            messages.validation_error(
                request, gettext("The ticket could not be saved due to errors."), form
            )
            return self.render_to_response(self.get_context_data(fields_form=form), status=400)
        changed = form.changed_values()
        ticket = self.ticket
        user = request.user
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
        else:
            messages.success(request, gettext("Nothing changed."))
        if not visible_tickets(user).filter(pk=ticket.pk).exists():
            # Moved to a department the agent does not work in.
            return redirect(inbox_url() or "wagtailadmin_home")
        return redirect(self.ticket_url())
