"""Demo tickets, made only through the desk's workflow so every fact stays consistent.

A fixed seed makes each load the same, apart from dates, which are relative to now.
"""

import random
from datetime import timedelta

from wagtail_tickets import workflow
from wagtail_tickets.models import Priority, Status

from . import content, files
from .people import ANONYMOUS

SEED = 20240501
TICKET_COUNT = 50
# How often each department gets a ticket (Billing only takes logged-in customers).
DEPARTMENT_WEIGHTS = {"TECH": 5, "BILL": 2, "GEN": 3}
PRIORITY_WEIGHTS = [3, 6, 2, 1]  # low, normal, high, urgent in the seeded order
OUTCOMES = ["new", "waiting", "open", "resolved", "closed", "reopened"]


def _outcome(rng, age_days):
    # Old tickets are mostly done; recent ones are still being worked on.
    if age_days > 14:
        weights = [0, 1, 1, 5, 6, 1]
    elif age_days > 3:
        weights = [1, 4, 3, 3, 2, 1]
    else:
        weights = [4, 3, 3, 1, 0, 0]
    return rng.choices(OUTCOMES, weights=weights)[0]


def _message_count(rng, outcome):
    """Replies alternate staff/customer after the opening, so the count fixes the last
    writer: an even count ends with staff (waiting), an odd one with the customer."""
    if outcome == "new":
        return 1
    count = rng.randint(2, 6)
    if outcome == "waiting" and count % 2:
        count -= 1
    if outcome == "open" and count % 2 == 0:
        count = count + 1 if count < 6 else count - 1
    return count


def _times(rng, opened, now, count):
    """``count`` sorted moments between ``opened`` and shortly before ``now``."""
    span = (now - opened) * 0.95
    return sorted(opened + span * rng.random() for _ in range(count))


def _tech_answers(rng, department, opened):
    answers = []
    for field in department.form_fields.all():
        if field.field_type == "info":
            continue
        if field.field_type == "date":
            value = (opened - timedelta(days=rng.randint(0, 5))).date().isoformat()
            value = rng.choice([value, None])
        elif field.field_type == "checkbox":
            value = True
        else:
            value = rng.choice(content.TECH_ANSWERS.get(field.label, [""]))
        # The shape TicketForm.custom_field_values() stores for a real submission.
        answers.append(
            {
                "name": field.clean_name,
                "label": field.label,
                "type": field.field_type,
                "value": value,
            }
        )
    return answers


class TicketMaker:
    def __init__(self, departments, agents, customers, now):
        self.rng = random.Random(SEED)
        self.departments = departments
        self.agents = agents  # code prefix -> list of staff users
        self.customers = customers
        self.resolved = Status.first_of_kind(Status.Kind.RESOLVED)
        self.now = now
        self.priorities = list(Priority.objects.order_by("sort_order", "pk"))
        self.form_urls = {prefix: page.get_url() or "" for prefix, page in departments.items()}

    def make_all(self):
        return [self.make(index) for index in range(TICKET_COUNT)]

    def _priority(self):
        weights = PRIORITY_WEIGHTS[: len(self.priorities)]
        return self.rng.choices(self.priorities[: len(weights)], weights=weights)[0]

    def _who(self, index, prefix):
        """(user or None, name, e-mail); the first customer gets a few tickets to browse."""
        rng = self.rng
        if index < 4:
            user = self.customers[0]
        elif prefix != "BILL" and rng.random() < 0.4:
            name, email = rng.choice(ANONYMOUS)
            return None, name, email
        else:
            user = rng.choice(self.customers)
        return user, user.get_full_name(), user.email

    def make(self, index):
        rng = self.rng
        prefix = rng.choices(list(DEPARTMENT_WEIGHTS), weights=DEPARTMENT_WEIGHTS.values())[0]
        department = self.departments[prefix]
        scenario = rng.choice(content.SCENARIOS[prefix])
        customer, name, email = self._who(index, prefix)
        age_days = rng.uniform(0.1, 60) if index >= 4 else rng.uniform(0.5, 20)
        opened = self.now - timedelta(days=age_days)
        outcome = _outcome(rng, age_days)
        count = _message_count(rng, outcome)
        # Extra moments for the closing and reopening steps after the last message.
        times = _times(rng, opened, self.now, count + 2)
        agent = rng.choice(self.agents[prefix])

        attachments = []
        if scenario.get("screenshot") and rng.random() < 0.6:
            attachments.append(files.screenshot(rng))
        ticket, _token = workflow.open_ticket(
            department=department,
            subject=scenario["subject"],
            body=scenario["body"],
            customer=customer,
            customer_name=name,
            customer_email=email,
            custom_fields=_tech_answers(rng, department, opened) if prefix == "TECH" else [],
            attachments=attachments,
            priority=self._priority(),
            submitter={
                "ip": f"203.0.113.{rng.randint(1, 254)}",
                "user_agent": rng.choice(content.USER_AGENTS),
                "source_page": self.form_urls[prefix],
            },
            language="en",
            at=times[0],
        )
        self._converse(ticket, scenario, customer, agent, count, times)
        self._finish(ticket, outcome, customer, agent, times[count:])
        return ticket

    def _converse(self, ticket, scenario, customer, agent, count, times):
        rng = self.rng
        replies = scenario["replies"]
        for number in range(1, count):
            by_staff = number % 2 == 1
            if number - 1 < len(replies):
                body = replies[number - 1]
            else:
                body = rng.choice(content.STAFF_FILLERS if by_staff else content.CUSTOMER_FILLERS)
            attachments = []
            if not by_staff and number == 2 and scenario.get("log"):
                attachments.append(files.console_log(rng, times[number]))
            if by_staff:
                workflow.post_reply(
                    ticket,
                    body=body,
                    author=agent,
                    by_staff=True,
                    time_spent_minutes=rng.choice([5, 10, 15, 20, 30]),
                    at=times[number],
                )
                if number == 1 and rng.random() < 0.2:
                    workflow.post_reply(
                        ticket,
                        body=rng.choice(content.INTERNAL_NOTES),
                        author=agent,
                        by_staff=True,
                        is_internal=True,
                        # Between this reply and the next step, whatever that is.
                        at=times[number] + (times[number + 1] - times[number]) / 2,
                    )
            else:
                workflow.post_reply(
                    ticket,
                    body=body,
                    author=customer,
                    author_name=ticket.customer_name,
                    author_email=ticket.customer_email,
                    attachments=attachments,
                    at=times[number],
                )

    def _finish(self, ticket, outcome, customer, agent, later):
        """Status changes after the conversation, at the two moments in ``later``;
        'new', 'waiting' and 'open' follow from the replies themselves."""
        if outcome == "resolved":
            workflow.change_status(ticket, self.resolved, user=agent, at=later[0])
        elif outcome in ("closed", "reopened"):
            # Customers close about half of their tickets themselves.
            closer = customer if customer and self.rng.random() < 0.5 else agent
            workflow.close(ticket, user=closer, at=later[0])
            if outcome == "reopened":
                workflow.reopen(ticket, user=customer, at=later[1])
