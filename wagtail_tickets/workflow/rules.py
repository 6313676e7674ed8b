"""Who may do what to a ticket, enforced where the change happens.

Views show or hide controls with the same questions (``permissions.may_*``), but the
workflow asks them again, so a bulk action, a single action, the reply form and any
later route (mail, API) get one answer. A ``user`` of None is the system (imports,
commands, automatic steps) and is not asked about.

The rules:

- **life cycle** (reply, internal note, close, reopen): the ticket's customer, or a
  desk user who can see the ticket;
- **status** (any status, through the fields form, the reply form's "status after
  sending" or the bulk action): a desk user who can see the ticket and holds "Can
  change ticket fields", as for subject, priority and department. A reply's automatic
  status (waiting for the customer) is the workflow's, not a choice;
- **assign**: a desk user who can see the ticket and holds "Can assign tickets"; the
  assignee must be an active desk user (admin access) who can see the ticket's
  department;
- **merge**: "Can change ticket fields", every ticket visible to the user, all of one
  customer (the same account, or without accounts the same address), at most
  ``MERGE_MAX_TICKETS`` at once.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import conf, permissions
from .tickets import WorkflowError


class NotAllowed(WorkflowError):
    """The user may not make this change to this ticket."""


def check_may_work_on(user, ticket):
    if user is None or ticket.is_customer(user):
        return
    if not permissions.may_work_on(user, ticket):
        raise NotAllowed(_("You may not work on %(code)s.") % {"code": ticket.code})


def check_may_change_status(user, ticket):
    if user is None:
        return
    if not permissions.may_change_status(user, ticket):
        raise NotAllowed(
            _("You may not change the status of %(code)s; you can close or reopen it.")
            % {"code": ticket.code}
        )


def check_may_change_fields(user, ticket, department=None):
    if user is None:
        return
    if not permissions.may_change_fields(user, ticket):
        raise NotAllowed(_("You may not change the fields of %(code)s.") % {"code": ticket.code})
    if department is not None and not permissions.may_see_department(user, department):
        raise NotAllowed(
            _("You may not move tickets to %(department)s.") % {"department": department.title}
        )


def check_may_assign(user, ticket, assignee):
    if user is not None and not permissions.may_assign(user, ticket):
        raise NotAllowed(_("You may not assign %(code)s.") % {"code": ticket.code})
    if assignee is not None and not permissions.may_be_assigned(assignee, ticket):
        raise NotAllowed(
            _("%(name)s cannot be given %(code)s: they do not work on its department's tickets.")
            % {"name": assignee.get_full_name() or assignee.get_username(), "code": ticket.code}
        )


def same_customer(first, second):
    """Whether two tickets belong to one customer: the same account, or, for tickets
    without an account, the same address (in any case)."""
    if first.customer_id or second.customer_id:
        return first.customer_id == second.customer_id
    return (first.customer_email or "").strip().lower() == (
        second.customer_email or ""
    ).strip().lower()


def check_merge_size(count):
    limit = conf.get("MERGE_MAX_TICKETS")
    if count > limit:
        raise WorkflowError(
            ngettext(
                "You can merge at most %(limit)d ticket at once; %(count)d were chosen.",
                "You can merge at most %(limit)d tickets at once; %(count)d were chosen.",
                limit,
            )
            % {"limit": limit, "count": count}
        )


def check_may_merge(user, target, sources):
    """Called with the tickets' locked rows, so what is checked is what gets merged."""
    check_merge_size(len(sources) + 1)
    if user is not None:
        for ticket in (target, *sources):
            if not permissions.may_change_fields(user, ticket):
                raise NotAllowed(_("You may not merge %(code)s.") % {"code": ticket.code})
    for source in sources:
        if not same_customer(target, source):
            raise WorkflowError(
                _(
                    "%(code)s belongs to another customer than %(target)s; only one "
                    "customer's tickets can be merged."
                )
                % {"code": source.code, "target": target.code}
            )
