"""Invariants: what the site answered against what it stored and what the SMTP server got."""

import json
import time
from collections import Counter

TASKS = "django_tasks_database_dbtaskresult"


def _rows(shape, sql):
    out = shape.psql(f"select coalesce(json_agg(q), '[]') from ({sql}) q")
    return json.loads(out or "[]")


def drain(shape, timeout=240):
    """Wait until the task queue is empty (scheduled digests and retries included)."""
    deadline = time.monotonic() + timeout
    left = None
    while time.monotonic() < deadline:
        left = int(shape.psql(f"select count(*) from {TASKS} where status in ('READY','RUNNING')"))
        if left == 0:
            return True
        time.sleep(1)
    return False


def queue_state(shape):
    return dict(
        (row["status"], row["n"])
        for row in _rows(shape, f"select status, count(*) as n from {TASKS} group by status")
    )


class Report:
    def __init__(self, scenario):
        self.scenario = scenario
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        return ok

    @property
    def ok(self):
        return all(ok for _, ok, _ in self.results)

    def lines(self):
        for name, ok, detail in self.results:
            mark = "ok  " if ok else "FAIL"
            yield f"  [{mark}] {name}" + (f": {detail}" if detail else "")


def check_stored(shape, ledger, report):
    """Submissions, replies and codes in the database against the answers."""
    run = ledger.run
    tickets = _rows(
        shape,
        "select t.code, t.subject, t.customer_email, t.message_count, "
        "(select count(*) from wagtail_tickets_message m where m.ticket_id = t.id) as messages "
        f"from wagtail_tickets_ticket t where t.subject like 'Load {run}-%'",
    )
    by_subject = Counter(t["subject"] for t in tickets)
    by_code = {t["subject"]: t["code"] for t in tickets}
    accepted = [s for s in ledger.submissions if s[2] == 302]
    missing = [m for m, _, _, _ in accepted if by_subject[f"Load {m}"] == 0]
    twice = [m for m, _, _, _ in accepted if by_subject[f"Load {m}"] > 1]
    report.check(
        "every submission answered 302 is stored exactly once",
        not missing and not twice,
        f"{len(accepted)} answered 302; missing {missing[:5]}, stored twice {twice[:5]}",
    )
    wrong_code = [
        (m, code, by_code.get(f"Load {m}"))
        for m, _, _, code in accepted
        if code and by_code.get(f"Load {m}") != code
    ]
    report.check(
        "the code on the thanks page is the stored ticket's", not wrong_code, str(wrong_code[:5])
    )
    refused = [s for s in ledger.submissions if s[2] not in (302, 0)]
    stored_refused = [m for m, _, _, _ in refused if by_subject[f"Load {m}"]]
    report.check(
        "no submission answered with an error was stored",
        not stored_refused,
        f"{len(refused)} refused; stored anyway: {stored_refused[:5]}",
    )
    duplicates = _rows(
        shape,
        "select code, count(*) as n from wagtail_tickets_ticket group by code having count(*) > 1",
    )
    report.check("no duplicate ticket codes (per prefix)", not duplicates, str(duplicates[:5]))
    empty = _rows(
        shape,
        "select t.code from wagtail_tickets_ticket t where not exists "
        "(select 1 from wagtail_tickets_message m where m.ticket_id = t.id)",
    )
    report.check("no ticket without its first message", not empty, str(empty[:5]))
    counts = [t for t in tickets if t["message_count"] != t["messages"]]
    report.check("message_count matches the stored messages", not counts, str(counts[:3]))
    behind = _rows(
        shape,
        "select c.prefix, c.last_number, max(split_part(t.code, '-', 2)::bigint) as top "
        "from wagtail_tickets_departmentcounter c "
        "join wagtail_tickets_ticket t on t.code like c.prefix || '-%' "
        "group by 1, 2 having max(split_part(t.code, '-', 2)::bigint) > c.last_number",
    )
    report.check("department counters are ahead of every code issued", not behind, str(behind))
    for kind, rows in (("customer", ledger.customer_replies), ("agent", ledger.agent_replies)):
        accepted = [r[0] for r in rows if r[2] == 302]
        if not accepted:
            continue
        stored = Counter(
            row["marker"]
            for row in _rows(
                shape,
                "select substring(body from '\\((" + run + "-[ac][0-9]+)\\)') as marker "
                f"from wagtail_tickets_message where body like '%({run}-%'",
            )
        )
        bad = [m for m in accepted if stored[m] != 1]
        report.check(
            f"every {kind} reply answered 302 is stored once",
            not bad,
            f"{len(accepted)} answered 302; not stored once: {bad[:5]}",
        )
    return tickets


def check_mail(shape, ledger, report, since, *, killed_tasks=0):
    """Every notification the workflow sent reached the SMTP server exactly once.

    ``killed_tasks``: tasks a killed worker left running. Each may send the one mail it
    was handing over when killed a second time (SMTP's duplicate window, RFC 1047: the
    server took it and the worker died before recording that), as the same message
    (same Message-ID and text); nothing else may arrive twice."""
    states = queue_state(shape)
    report.check(
        "task queue drained, no task failed",
        not states.get("READY") and not states.get("RUNNING") and not states.get("FAILED"),
        str(states),
    )
    if states.get("FAILED"):
        failed = _rows(
            shape,
            f"select task_path, exception_class_path from {TASKS} where status = 'FAILED' limit 5",
        )
        report.check("failed tasks", False, str(failed))
    received_mails = shape.mails()
    ids = Counter(m["message_id"] for m in received_mails)
    twice = [i for i, n in ids.items() if n > 1]
    again = sum(ids[i] - 1 for i in twice)
    report.check(
        "no Message-ID received twice, beyond one resend by each task a killed worker "
        f"left running ({killed_tasks})",
        again <= killed_tasks,
        f"{len(received_mails)} mails; {again} sent again: {twice[:3]}",
    )
    copies = {}
    for mail in received_mails:
        copies.setdefault(mail["message_id"], set()).add(
            (tuple(mail["to"]), mail["subject"], mail["body"])
        )
    differ = [i for i in twice if len(copies[i]) > 1]
    report.check("a mail sent again is the same mail", not differ, str(differ[:3]))
    # One per Message-ID: what follows counts messages, not their deliveries.
    mails = list({m["message_id"]: m for m in received_mails}.values())
    recorded = {
        row["mail_id"]
        for row in _rows(
            shape,
            "select mail_id from wagtail_tickets_ticketmailid "
            f"where outgoing and created_at >= to_timestamp({since})",
        )
    }
    received = {m["message_id"] for m in mails}
    report.check(
        "every mail the site recorded as sent was received (and nothing else)",
        recorded == received,
        f"recorded {len(recorded)}, received {len(received)}; "
        f"not received {sorted(recorded - received)[:3]}, "
        f"unrecorded {sorted(received - recorded)[:3]}",
    )
    to = Counter()
    for mail in mails:
        if _markers(mail["body"], ledger.run):
            continue  # a reply's mail to the same customer, counted below
        for address in mail["to"]:
            to[address, mail["subject"].split("]")[0].strip("[")] += 1
    accepted = [s for s in ledger.submissions if s[2] == 302 and s[3]]
    bad = [(m, code, to[email, code]) for m, email, _, code in accepted if to[email, code] != 1]
    report.check(
        "one confirmation per ticket filed",
        not bad,
        f"{len(accepted)} tickets; not exactly one: {bad[:5]}",
    )
    bodies = Counter()
    for mail in mails:
        for marker in set(_markers(mail["body"], ledger.run)):
            bodies[marker] += 1
    for kind, rows in (
        ("agent reply", ledger.agent_replies),
        ("customer reply", ledger.customer_replies),
    ):
        accepted = [r[0] for r in rows if r[2] == 302]
        if accepted:
            bad = [(m, bodies[m]) for m in accepted if bodies[m] != 1]
            report.check(
                f"each {kind} mailed exactly once",
                not bad,
                f"{len(accepted)} replies; not exactly once: {bad[:5]}",
            )


def _markers(text, run):
    import re

    return re.findall(r"\((" + re.escape(run) + r"-[ac][0-9]+)\)", text)


def check_answers(stats, report, *, allow_503=False):
    report.check(
        "no 500-class answer but 503" if allow_503 else "no 5xx answer",
        not stats.server_errors and (allow_503 or not stats.unavailable_pages),
        f"{len(stats.server_errors)} 5xx, {len(stats.unavailable_pages)} 503; "
        + "; ".join(f"{a} {s} {p}" for a, s, p, _ in stats.server_errors[:3]),
    )
    failed = sum(stats.errors.values())
    report.check(
        "no connection errors or timeouts",
        not failed,
        str(dict(stats.errors))
        + "".join(f"; {a} {p} {e}" for a, p, e in stats.connection_errors[:3]),
    )
