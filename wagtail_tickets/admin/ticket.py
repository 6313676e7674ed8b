"""The ticket screen, creating tickets for customers, transcripts.

Every view finds its ticket among ``visible_tickets(request.user)``: an agent who may not
see a ticket gets a 404, the same answer as for a code that does not exist. Every state
change is a POST (CSRF-checked by Django) that calls the workflow.
"""

from urllib.parse import urlencode

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Lag, Lead, RowNumber
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.log_actions import registry as log_registry
from wagtail.models import Page, Site

from .. import workflow
from ..attachments import AttachmentRules
from ..downloads import attachment_response
from ..models import (
    ArticlePage,
    Attachment,
    DepartmentPage,
    HelpdeskSettings,
    Message,
    Priority,
    Star,
    Status,
    Ticket,
    TicketView,
)
from ..permissions import sees_all_departments, visible_tickets
from ..views.utils import client_ip
from ..workflow.desk import VIEW_THROTTLE
from .forms import CreateTicketForm, DeskReplyForm, MessageEditForm, TicketFieldsForm
from .menu import HELPDESK_MENU_HOOK, desk_profile, is_desk_user

NAMESPACE = "helpdesk_tickets"
INBOX_URL_NAME = "helpdesk_inbox:index"
VIEWS_SHOWN = 20
OTHER_TICKETS_SHOWN = 20
HISTORY_SHOWN = 25


def url(name, *args):
    return reverse(f"{NAMESPACE}:{name}", args=args)


def can(user, codename):
    return user.has_perm(f"wagtail_tickets.{codename}")


staff_profile = desk_profile
has_desk_access = is_desk_user


def agent_departments(user):
    """The departments whose tickets ``user`` works on (all of them for some)."""
    queryset = DepartmentPage.objects.order_by("path")
    if sees_all_departments(user):
        return list(queryset)
    profile = staff_profile(user)
    if profile is None:
        return []
    return list(queryset.filter(staff_members=profile))


def inbox_url():
    try:
        return reverse(INBOX_URL_NAME)
    except Exception:
        return None


def settings_for_department(request, department):
    """The helpdesk settings of the site the department belongs to, in one query.

    That is the site whose settings the customer's forms use, whatever host the admin
    is reached by. Falls back to the request's site when that site has no settings row.
    """
    if department is not None and department.path:
        steplen = Page.steplen
        prefixes = [
            department.path[:end] for end in range(steplen, len(department.path) + 1, steplen)
        ]
        found = (
            HelpdeskSettings.objects.filter(site__root_page__path__in=prefixes)
            .order_by("-site__root_page__depth")
            .first()
        )
        if found is not None:
            return found
    try:
        return HelpdeskSettings.for_request(request)
    except Site.DoesNotExist:
        return HelpdeskSettings()


def attachment_rules(request, department):
    if department is None:
        return AttachmentRules(frozenset(), 0, 0)
    return AttachmentRules.for_department(department, settings_for_department(request, department))


def choice_lookups(user, *, priorities=False, departments=False):
    """Statuses (and priorities, and the user's departments) in one query.

    The side form needs all three; a UNION keeps the ticket screen within its query
    budget. The instances carry the fields the desk and the workflow read (names,
    colours, kinds, SLA targets, department titles) and are never saved.
    """
    text, number = CharField(), IntegerField()

    def part(queryset, kind, name, colour, order, extra, first=None, resolution=None):
        return (
            queryset.order_by()
            .annotate(
                lk_kind=Value(kind, output_field=text),
                lk_name=name,
                lk_colour=colour,
                lk_order=order,
                lk_extra=extra,
                lk_first=first if first is not None else Value(None, output_field=number),
                lk_resolution=(
                    resolution if resolution is not None else Value(None, output_field=number)
                ),
            )
            .values_list(
                "lk_kind",
                "pk",
                "lk_name",
                "lk_colour",
                "lk_order",
                "lk_extra",
                "lk_first",
                "lk_resolution",
            )
        )

    blank = Value("", output_field=text)
    query = part(Status.objects.all(), "s", F("name"), F("colour"), F("sort_order"), F("kind"))
    parts = []
    if priorities:
        parts.append(
            part(
                Priority.objects.all(),
                "p",
                F("name"),
                F("colour"),
                F("sort_order"),
                blank,
                F("first_response_minutes"),
                F("resolution_minutes"),
            )
        )
    if departments:
        department_qs = DepartmentPage.objects.all()
        if not sees_all_departments(user):
            profile = staff_profile(user)
            department_qs = department_qs.filter(staff_members=profile) if profile else None
        if department_qs is not None:
            parts.append(
                part(
                    department_qs, "d", F("title"), blank, Value(0, output_field=number), F("path")
                )
            )
    if parts:
        query = query.union(*parts, all=True)
    found = {"s": [], "p": [], "d": []}
    for kind, pk, name, colour, order, extra, first, resolution in query:
        if kind == "s":
            found["s"].append(Status(pk=pk, name=name, colour=colour, sort_order=order, kind=extra))
        elif kind == "p":
            found["p"].append(
                Priority(
                    pk=pk,
                    name=name,
                    colour=colour,
                    sort_order=order,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                )
            )
        else:
            found["d"].append(DepartmentPage(id=pk, page_ptr_id=pk, title=name, path=extra))
    found["s"].sort(key=lambda o: (o.sort_order, o.pk))
    found["p"].sort(key=lambda o: (o.sort_order, o.pk))
    found["d"].sort(key=lambda o: o.path)
    return found["s"], found["p"], found["d"]


# --------------------------------------------------------------------------------------
# Next / previous within the inbox's filter
# --------------------------------------------------------------------------------------

DEFAULT_ORDERING = "-last_message_at"
FALLBACK_SORTS = {"last_message_at": ["last_message_at"], "created_at": ["created_at"]}


def _inbox():
    """The inbox's own filtering and sorts, when the inbox is installed."""
    try:
        from . import inbox
    except ImportError:  # pragma: no cover - the inbox ships with the package
        return None
    if not all(hasattr(inbox, name) for name in ("inbox_queryset", "SORTS")):
        return None
    return inbox


def _order_by(ordering, sorts):
    descending = ordering.startswith("-")
    fields = sorts.get(ordering.lstrip("-"))
    if fields is None:
        return _order_by(DEFAULT_ORDERING, sorts)
    expressions = []
    for field in [*fields, "pk"] if "pk" not in fields else fields:
        if field == "due_at":
            expression = (
                F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
            )
        else:
            expression = F(field).desc() if descending else F(field).asc()
        expressions.append(expression)
    return expressions


def inbox_queryset(request, query):
    """The inbox's tickets for its query string, filtered (and searched) as it does."""
    inbox = _inbox()
    if inbox is not None:
        return inbox.inbox_queryset(request, query)
    return visible_tickets(request.user)


def neighbours(request, ticket, from_query):
    """(previous pk, next pk, position, total) of ``ticket`` in the inbox list; one query."""
    if from_query is None:
        return None
    query = QueryDict(from_query)
    inbox = _inbox()
    sorts = inbox.SORTS if inbox is not None else FALLBACK_SORTS
    order = _order_by(query.get("ordering") or DEFAULT_ORDERING, sorts)
    queryset = inbox_queryset(request, query).order_by()
    ranked = queryset.annotate(
        previous_pk=Window(Lag("pk"), order_by=order),
        next_pk=Window(Lead("pk"), order_by=order),
        position=Window(RowNumber(), order_by=order),
    )
    # The position=0 branch is never true, but it makes the whole condition refer to the
    # window, so it is applied after numbering instead of before it.
    row = (
        ranked.filter(Q(pk=ticket.pk) | Q(position=0))
        .values_list("previous_pk", "next_pk", "position")
        .first()
    )
    if row is None:
        return None
    return {"previous": row[0], "next": row[1], "position": row[2]}


# --------------------------------------------------------------------------------------
# History entries in words
# --------------------------------------------------------------------------------------

FIELD_LABELS = {
    "subject": _("Subject"),
    "priority": _("Priority"),
    "department": _("Department"),
}


def _name(value):
    if isinstance(value, dict):
        return value.get("name") or value.get("code") or ""
    return "" if value is None else str(value)


def describe_entry(entry):
    """A short line about what changed, from the entry's data."""
    data = entry.data or {}
    action = entry.action
    nobody = gettext("nobody")
    if action in (
        "wagtail_tickets.ticket.status",
        "wagtail_tickets.ticket.close",
        "wagtail_tickets.ticket.reopen",
        "wagtail_tickets.ticket.resolve",
    ):
        old, new = data.get("old"), data.get("new")
        if old or new:
            return f"{gettext(_name(old))} → {gettext(_name(new))}"
    if action == "wagtail_tickets.ticket.assign":
        return f"{_name(data.get('old')) or nobody} → {_name(data.get('new')) or nobody}"
    if action == "wagtail_tickets.ticket.edit":
        parts = []
        for field, change in data.items():
            if isinstance(change, dict):
                label = FIELD_LABELS.get(field, field)
                parts.append(f"{label}: {_name(change.get('old'))} → {_name(change.get('new'))}")
        return "; ".join(parts)
    if action in ("wagtail_tickets.message.edit", "wagtail_tickets.message.delete"):
        old = (data.get("old_body") or "").strip()
        if len(old) > 200:
            old = old[:200] + "…"
        return gettext("Earlier text: %(text)s") % {"text": old} if old else ""
    if action == "wagtail_tickets.ticket.merge":
        return ", ".join(s.get("code", "") for s in data.get("sources", []))
    if action == "wagtail_tickets.ticket.merged_away":
        return _name(data.get("into"))
    if action == "wagtail_tickets.ticket.article":
        return data.get("title") or ""
    return ""


def format_custom_value(item):
    value = item.get("value")
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


class TicketMixin:
    """Loads ``self.ticket`` among the tickets the user may see, else 404."""

    ticket_select_related = (
        "status",
        "priority",
        "department",
        "assignee",
        "customer",
        "merged_into",
    )

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.ticket = self.get_ticket()

    def get_ticket(self):
        queryset = visible_tickets(self.request.user).select_related(*self.ticket_select_related)
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def ticket_url(self, ticket=None):
        target = url("detail", (ticket or self.ticket).pk)
        from_query = self.request.GET.get("from", self.request.POST.get("from"))
        if from_query is not None:
            target += "?" + urlencode({"from": from_query})
        return target


class TicketSubpageMixin(TicketMixin):
    """A screen below a ticket's (edit a message, create an article): Inbox › code › title."""

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            items.append({"url": inbox, "label": gettext("Inbox")})
        items.append({"url": self.ticket_url(), "label": self.ticket.code})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def get_page_subtitle(self):
        return self.ticket.code


class TicketPostMixin(TicketMixin):
    """An action on a ticket: POST only, back to the ticket screen afterwards."""

    http_method_names = ["post"]

    def done(self):
        return redirect(self.ticket_url())


class TicketDetailView(TicketMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_tickets/admin/ticket.html"
    header_icon = "help"

    def get_ticket(self):
        """The ticket and its customer's other visible tickets, in one query."""
        pk = self.kwargs["pk"]
        user = self.request.user
        this = Ticket.objects.filter(pk=pk)
        rows = list(
            visible_tickets(user)
            .filter(
                Q(pk=pk)
                | Q(customer_id=Subquery(this.values("customer_id")[:1]))
                | Q(customer_email=Subquery(this.values("customer_email")[:1]))
            )
            .select_related(*self.ticket_select_related)
            .annotate(
                is_this=Case(When(pk=pk, then=Value(1)), default=Value(0)),
                starred=Exists(Star.objects.filter(ticket=OuterRef("pk"), user=user)),
                # The articles panel queries only for tickets that have articles.
                has_articles=Exists(ArticlePage.objects.filter(source_ticket=OuterRef("pk"))),
            )
            .order_by("-is_this", "-created_at", "-pk")[: OTHER_TICKETS_SHOWN + 1]
        )
        if not rows or rows[0].pk != pk:
            raise Http404
        self.others = rows[1:]
        return rows[0]

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
    def lookups(self):
        return choice_lookups(
            self.request.user,
            priorities=self.can_change_fields,
            departments=self.can_change_fields,
        )

    @property
    def statuses(self):
        return self.lookups[0]

    @property
    def priorities(self):
        return self.lookups[1]

    @cached_property
    def profile(self):
        return staff_profile(self.request.user)

    @cached_property
    def can_change_fields(self):
        return can(self.request.user, "change_ticket_fields")

    @cached_property
    def can_assign(self):
        return can(self.request.user, "assign_ticket")

    @cached_property
    def from_query(self):
        """The inbox's query string the agent came with (may be ""), or None."""
        return self.request.GET.get("from", self.request.POST.get("from"))

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
        return list(
            User.objects.filter(condition, is_active=True)
            .distinct()
            .order_by("first_name", "last_name", User.USERNAME_FIELD)
        )

    def department_choices(self):
        departments = list(self.lookups[2])
        department = self.ticket.department
        if department is not None and department.pk not in {d.pk for d in departments}:
            departments.insert(0, department)
        return departments

    def get_reply_form(self, data=None, files=None):
        return DeskReplyForm(
            data,
            files,
            rules=attachment_rules(self.request, self.ticket.department),
            statuses=self.statuses,
            signature=self.profile.signature if self.profile else "",
        )

    def get_fields_form(self, data=None):
        if not (self.can_change_fields or self.can_assign):
            return None
        return TicketFieldsForm(
            data,
            ticket=self.ticket,
            statuses=self.statuses,
            priorities=self.priorities,
            departments=self.department_choices() if self.can_change_fields else [],
            assignees=self.assignee_choices() if self.can_assign else [],
            can_change_fields=self.can_change_fields,
            can_assign=self.can_assign,
        )

    def conversation(self):
        return list(
            Message.objects.filter(ticket=self.ticket)
            .select_related("author", "edited_by")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
            .order_by("created_at", "pk")
        )

    def history(self):
        entries = list(
            log_registry.get_logs_for_instance(self.ticket)
            .select_related("user")
            .order_by("-timestamp", "-pk")[:HISTORY_SHOWN]
        )
        for entry in entries:
            try:
                entry.action_label = log_registry.get_action_label(entry.action)
            except KeyError:
                entry.action_label = entry.action
            entry.details = describe_entry(entry)
        return entries

    # -- page furniture --------------------------------------------------------------------

    def get_page_title(self):
        return self.ticket.code

    def get_page_subtitle(self):
        return self.ticket.subject

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            target = inbox + ("?" + self.from_query if self.from_query else "")
            items.append({"url": target, "label": gettext("Inbox")})
        items.append({"url": "", "label": self.ticket.code, "sublabel": self.ticket.subject})
        return items

    def _nav_url(self, name):
        return url(name, self.ticket.pk) + "?" + urlencode({"from": self.from_query})

    @cached_property
    def header_buttons(self):
        buttons = []
        if self.from_query is not None:
            # The neighbours are worked out when followed, so showing the ticket never
            # re-runs the inbox's filters.
            buttons.append(
                HeaderButton(
                    gettext("Previous ticket"),
                    url=self._nav_url("previous"),
                    icon_name="arrow-left",
                    icon_only=True,
                    attrs={"rel": "prev"},
                    priority=10,
                )
            )
            buttons.append(
                HeaderButton(
                    gettext("Next ticket"),
                    url=self._nav_url("next"),
                    icon_name="arrow-right",
                    icon_only=True,
                    attrs={"rel": "next"},
                    priority=20,
                )
            )
        buttons.append(
            HeaderButton(
                gettext("PDF transcript"),
                url=url("pdf", self.ticket.pk),
                icon_name="download",
                priority=30,
            )
        )
        from .knowledge import create_article_button

        article_button = create_article_button(self.request.user, self.ticket)
        if article_button is not None:
            buttons.append(article_button)
        return buttons

    def get_header_more_buttons(self):
        return [
            Button(
                gettext("Staff copy (PDF, with internal notes)"),
                url=url("pdf", self.ticket.pk) + "?notes=1",
                icon_name="download",
                priority=10,
            ),
            Button(
                gettext("Full history"),
                url=url("history", self.ticket.pk),
                icon_name="history",
                priority=20,
            ),
            Button(
                gettext("New ticket"),
                url=url("create"),
                icon_name="plus",
                priority=30,
            ),
        ]

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
            can_edit_messages=can(user, "edit_message"),
            can_delete_messages=can(user, "delete_message"),
            can_assign=self.can_assign,
            can_change_fields=self.can_change_fields,
            from_query=self.from_query,
            history_url=url("history", ticket.pk),
            action_urls={
                name: url(name, ticket.pk)
                for name in ("reply", "update", "close", "reopen", "star", "pdf")
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


class LifecycleView(TicketPostMixin, View):
    """Close or reopen; the workflow says why when the action does not apply."""

    action = None  # workflow.close or workflow.reopen
    done_message = None

    def post(self, request, *args, **kwargs):
        try:
            type(self).action(self.ticket, user=request.user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, self.done_message % {"code": self.ticket.code})
        return self.done()


class CloseView(LifecycleView):
    action = workflow.close
    done_message = _("Ticket %(code)s closed.")


class ReopenView(LifecycleView):
    action = workflow.reopen
    done_message = _("Ticket %(code)s reopened.")


class StarView(TicketPostMixin, View):
    def post(self, request, *args, **kwargs):
        deleted, _rows = Star.objects.filter(ticket=self.ticket, user=request.user).delete()
        if not deleted:
            Star.objects.get_or_create(ticket=self.ticket, user=request.user)
        return self.done()


class MessageMixin(TicketSubpageMixin):
    permission_codename = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.message = get_object_or_404(
            Message.objects.select_related("author"), pk=kwargs["message_pk"], ticket=self.ticket
        )
        self.message.ticket = self.ticket

    def dispatch(self, request, *args, **kwargs):
        if not can(request.user, self.permission_codename):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(ticket=self.ticket, message=self.message, ticket_url=self.ticket_url())
        return context


class EditMessageView(MessageMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_codename = "edit_message"
    template_name = "wagtail_tickets/admin/ticket_message_edit.html"
    page_title = _("Edit message")
    header_icon = "edit"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or MessageEditForm(initial={"body": self.message.body})
        return context

    def post(self, request, *args, **kwargs):
        form = MessageEditForm(request.POST)
        if not form.is_valid():
            messages.validation_error(request, gettext("The message could not be saved."), form)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        changed = workflow.edit_message(self.message, form.cleaned_data["body"], user=request.user)
        if changed:
            messages.success(request, gettext("Message edited."))
        return redirect(self.ticket_url() + f"#message-{self.message.pk}")


class DeleteMessageView(MessageMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_codename = "delete_message"
    template_name = "wagtail_tickets/admin/ticket_message_delete.html"
    page_title = _("Delete message")
    header_icon = "bin"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        first = (
            Message.objects.filter(ticket=self.ticket)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        context["is_first"] = first == self.message.pk
        return context

    def post(self, request, *args, **kwargs):
        try:
            workflow.delete_message(self.message, user=request.user)
        except workflow.WorkflowError:
            messages.error(request, gettext("The customer's first message cannot be deleted."))
            return redirect(self.ticket_url())
        messages.success(request, gettext("Message deleted."))
        return redirect(self.ticket_url())


class NavigateView(TicketMixin, View):
    """Go to the previous or next ticket of the inbox list the agent came from."""

    http_method_names = ["get"]
    direction = "next"

    def get(self, request, *args, **kwargs):
        from_query = request.GET.get("from")
        found = neighbours(request, self.ticket, from_query) if from_query is not None else None
        target = found and found[self.direction]
        if not target:
            if self.direction == "next":
                messages.info(request, gettext("This is the last ticket in the list."))
            else:
                messages.info(request, gettext("This is the first ticket in the list."))
            return redirect(self.ticket_url())
        return redirect(url("detail", target) + "?" + urlencode({"from": from_query}))


class AttachmentDownloadView(TicketMixin, View):
    """A staff download: the same headers as the customer's download view."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        attachment = get_object_or_404(
            Attachment, pk=kwargs["attachment_pk"], message__ticket=self.ticket
        )
        return attachment_response(attachment)


class TranscriptView(TicketMixin, View):
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        from ..pdf import ticket_transcript

        staff_copy = request.GET.get("notes") == "1"
        content = ticket_transcript(self.ticket, include_notes=staff_copy, request=request)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{self.ticket.code}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class TicketHistoryView(HistoryView):
    """Wagtail's history listing (filters, paging) for one ticket."""

    model = Ticket
    permission_policy = None
    any_permission_required = []
    header_icon = "history"

    def get_base_object_queryset(self):
        return visible_tickets(self.request.user)

    def get_edit_url(self, instance):
        return url("detail", quote(instance.pk))

    def get_history_url(self, instance):
        return url("history", quote(instance.pk))

    def get_history_results_url(self, instance):
        return url("history_results", quote(instance.pk))

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            items.append({"url": inbox, "label": gettext("Inbox")})
        items.append({"url": self.get_edit_url(self.object), "label": self.object.code})
        items.append({"url": "", "label": gettext("History"), "sublabel": self.object.code})
        return items

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(
                label=gettext("Back to the ticket"),
                url=self.get_edit_url(self.object),
                icon_name="arrow-left",
            )
        ]


class CreateTicketView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_tickets/admin/ticket_create.html"
    page_title = _("New ticket")
    header_icon = "plus"

    def dispatch(self, request, *args, **kwargs):
        if not has_desk_access(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        inbox = inbox_url()
        if inbox:
            items.append({"url": inbox, "label": gettext("Inbox")})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def site_settings(self):
        try:
            return HelpdeskSettings.for_request(self.request)
        except Site.DoesNotExist:
            return None

    def get_form(self, data=None, files=None):
        initial = {}
        department = self.request.GET.get("department")
        if department and department.isdigit():
            initial["department"] = department
        return CreateTicketForm(
            data,
            files,
            initial=initial,
            departments=agent_departments(self.request.user),
            priorities=list(Priority.objects.all()),
            site_settings=self.site_settings(),
        )

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or self.get_form()
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST, request.FILES)
        if not form.is_valid():
            messages.validation_error(
                request, gettext("The ticket could not be created due to errors."), form
            )
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        customer, name, email = form.customer()
        ticket, _token = workflow.open_ticket(
            department=data["department"],
            subject=data["subject"],
            body=data["message"],
            customer=customer,
            customer_name=name,
            customer_email=email,
            attachments=data.get("attachments") or [],
            priority=data.get("priority"),
            # Nothing about the agent's browser belongs to the customer's ticket.
            submitter={},
            source=Message.Source.STAFF,
            actor=request.user,
        )
        messages.success(
            request,
            gettext("Ticket %(code)s opened for %(name)s; they have been sent the link.")
            % {"code": ticket.code, "name": name},
        )
        return redirect(url("detail", ticket.pk))


class TicketViewSet(ViewSet):
    name = NAMESPACE
    icon = "help"
    add_to_admin_menu = False

    def get_urlpatterns(self):
        # Imported here: the knowledge views build on this module's TicketMixin.
        from .knowledge import CreateArticleView, KnowledgeSearchView

        history = dict(
            history_url_name=f"{NAMESPACE}:history",
            history_results_url_name=f"{NAMESPACE}:history_results",
        )
        return [
            path("new/", CreateTicketView.as_view(), name="create"),
            path("kb-search/", KnowledgeSearchView.as_view(), name="kb_search"),
            path("<int:pk>/article/", CreateArticleView.as_view(), name="create_article"),
            path("<int:pk>/", TicketDetailView.as_view(), name="detail"),
            path("<int:pk>/reply/", ReplyView.as_view(), name="reply"),
            path("<int:pk>/fields/", UpdateFieldsView.as_view(), name="update"),
            path("<int:pk>/close/", CloseView.as_view(), name="close"),
            path("<int:pk>/reopen/", ReopenView.as_view(), name="reopen"),
            path("<int:pk>/star/", StarView.as_view(), name="star"),
            path("<int:pk>/pdf/", TranscriptView.as_view(), name="pdf"),
            path("<int:pk>/next/", NavigateView.as_view(direction="next"), name="next"),
            path("<int:pk>/previous/", NavigateView.as_view(direction="previous"), name="previous"),
            path(
                "<int:pk>/messages/<int:message_pk>/edit/",
                EditMessageView.as_view(),
                name="edit_message",
            ),
            path(
                "<int:pk>/messages/<int:message_pk>/delete/",
                DeleteMessageView.as_view(),
                name="delete_message",
            ),
            path(
                "<int:pk>/files/<int:attachment_pk>/",
                AttachmentDownloadView.as_view(),
                name="attachment",
            ),
            path("<int:pk>/history/", TicketHistoryView.as_view(**history), name="history"),
            path(
                "<int:pk>/history/results/",
                TicketHistoryView.as_view(results_only=True, **history),
                name="history_results",
            ),
        ]


class NewTicketMenuItem(MenuItem):
    def is_shown(self, request):
        return has_desk_access(request.user)


@hooks.register("register_admin_viewset")
def register_ticket_viewset():
    return TicketViewSet()


@hooks.register(HELPDESK_MENU_HOOK)
def register_new_ticket_menu_item():
    return NewTicketMenuItem(
        capfirst(_("New ticket")),
        reverse_lazy(f"{NAMESPACE}:create"),
        name="helpdesk-new-ticket",
        icon_name="plus",
        order=150,
    )
