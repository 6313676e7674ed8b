#!/usr/bin/env python
"""The helpdesk in its production shape, under load and faults (``make load``).

    python bench/load/run.py                      # everything: steady load, burst, faults
    python bench/load/run.py --short              # CI: a short load and one fault
    python bench/load/run.py --scenarios steady,smtp_down --duration 60 --submit-rate 5

Starts the shape on loopback (shape.py: a throwaway PostgreSQL cluster, Redis as the
cache, gunicorn with 4 workers, django-tasks-db's worker, an SMTP server that records
what it receives), runs each scenario with the load client (driver.py), checks the
invariants after each (checks.py), prints the figures and every check, and exits
non-zero if any check failed. Everything it writes lives in one temporary directory,
removed at the end (--keep keeps it for a look).

Scenarios:
  steady       the mix for --duration seconds; throughput and latency per action
  burst        50 simultaneous submissions from one address: exactly the hourly limit
               is stored, whichever gunicorn worker answers
  worker_kill  the task worker is killed (SIGKILL) while it runs a task and started again,
               and takes back what it was running
  smtp_down    the SMTP server is stopped for 20 s mid-run, then started again
  pg_restart   PostgreSQL is stopped mid-run for 5 s and started again
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import time
import zlib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402
from driver import Load  # noqa: E402
from shape import Shape, rss_mib  # noqa: E402

AGENTS = [("olga", "demo-staff"), ("peter", "demo-staff")]
ALL = ["steady", "burst", "worker_kill", "smtp_down", "pg_restart"]
RSS_LIMIT_MIB = 400
RSS_GROWTH_MIB = 80


def uptime():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["?", "?", "?"]


class Memory(threading.Thread):
    """RSS of every gunicorn worker and the task worker, every two seconds."""

    def __init__(self, shape):
        super().__init__(daemon=True)
        self.shape = shape
        self.samples = {}
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(2):
            pids = {f"web:{pid}": pid for pid in self.shape.web_worker_pids()}
            worker = self.shape.procs.get("worker")
            if worker is not None and worker.poll() is None:
                pids[f"worker:{worker.pid}"] = worker.pid
            for name, pid in pids.items():
                value = rss_mib(pid)
                if value is not None:
                    self.samples.setdefault(name, []).append(value)

    def check(self, report):
        rows = {}
        bad = []
        for name, values in self.samples.items():
            # The first minute of a process is its warm-up (imports, templates, caches).
            # A process sampled for less than 80 s (one started again) has no settled part.
            growth = None
            if len(values) > 40:
                settled = values[30:]
                growth = max(settled) - settled[0]
            rows[name] = (round(values[0]), round(max(values)), growth)
            if max(values) > RSS_LIMIT_MIB or (growth is not None and growth > RSS_GROWTH_MIB):
                bad.append(name)
        report.check(
            f"worker memory bounded (< {RSS_LIMIT_MIB} MiB, settled growth < {RSS_GROWTH_MIB} MiB)",
            not bad,
            "; ".join(
                f"{n} first/max/settled growth {r[0]}/{r[1]}/"
                f"{'-' if r[2] is None else round(r[2])} MiB"
                for n, r in rows.items()
            ),
        )


class Runner:
    def __init__(self, options):
        self.options = options
        self.shape = Shape(keep=options.keep, log=self.log)
        self.reports = []
        self.figures = {}
        self.run_id = f"r{os.getpid()}"

    def log(self, text):
        print(text, flush=True)

    def new_load(self, name, duration):
        o = self.options
        return Load(
            self.shape.base_url,
            run=f"{self.run_id}{name.replace('_', '')}",
            duration=duration,
            submit_rate=o.submit_rate,
            read_rate=o.read_rate,
            agents=len(AGENTS),
            # The same choices in every run, so a failure seen once can be run again.
            seed=zlib.crc32(name.encode()),
        )

    async def _with_fault(self, load, fault):
        runner = asyncio.ensure_future(load.run(AGENTS))
        fault_task = asyncio.ensure_future(fault()) if fault else None
        await runner
        if fault_task is not None:
            await fault_task

    def run_load(self, name, duration, fault=None):
        load = self.new_load(name, duration)
        before = uptime()
        asyncio.run(self._with_fault(load, fault))
        self.figures[name] = {
            "duration_s": round(load.elapsed, 1),
            "load_average_before": before,
            "load_average_after": uptime(),
            "actions": load.stats.summary(load.elapsed),
        }
        self.print_figures(name)
        return load

    def print_figures(self, name):
        figures = self.figures[name]
        self.log(
            f"\n{name}: {figures['duration_s']} s, load average "
            f"{' '.join(figures['load_average_before'])} -> "
            f"{' '.join(figures['load_average_after'])}"
        )
        self.log(
            f"  {'action':<16}{'n':>6}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses"
        )
        for action, row in figures["actions"].items():
            self.log(
                f"  {action:<16}{row['n']:>6}{row['per_s']:>8}{row['p50_ms']:>9}"
                f"{row['p95_ms']:>9}{row['p99_ms']:>9}  {row['statuses']}"
            )

    def finish(self, name, load, *, allow_503=False, extra=None, killed_tasks=0):
        report = checks.Report(name)
        drained = checks.drain(self.shape)
        report.check("the task queue drained within 4 minutes", drained)
        checks.check_answers(load.stats, report, allow_503=allow_503)
        checks.check_stored(self.shape, load.ledger, report)
        checks.check_mail(self.shape, load.ledger, report, self.since, killed_tasks=killed_tasks)
        if extra:
            extra(report)
        self.reports.append(report)
        self.log(f"\n{name}: checks")
        for line in report.lines():
            self.log(line)
        if not report.ok:
            # The logs are removed with the shape; what explains a failure is kept here.
            for log in ("web", "worker"):
                self.log(f"\n{name}: the last lines of {log}.log")
                self.log(self.shape.tail(log, 25))
        return report

    # --- scenarios -----------------------------------------------------------------------

    def steady(self):
        load = self.run_load("steady", self.options.duration)
        self.finish("steady", load)

    def burst(self):
        limit = int(
            self.shape.psql(
                "select coalesce((select anonymous_tickets_per_hour from "
                "wagtail_tickets_helpdesksettings limit 1), 10)"
            )
        )
        load = self.new_load("burst", 0)
        ip = "10.250.250.250"
        started = time.time()
        statuses = asyncio.run(load.burst("general", 50, ip))
        self.log(f"\nburst: 50 submissions from {ip} at once: {dict(statuses)} (limit {limit})")
        load.elapsed = time.time() - started
        self.figures["burst"] = {"statuses": dict(statuses), "limit": limit}

        def extra(report):
            report.check(
                f"exactly the limit ({limit}) accepted, the rest refused with 429",
                statuses.get(302, 0) == limit and statuses.get(429, 0) == 50 - limit,
                str(dict(statuses)),
            )
            stored = int(
                self.shape.psql(
                    f"select count(*) from wagtail_tickets_ticket where submitter_ip = '{ip}'"
                )
            )
            report.check(
                "tickets stored from the address = the limit", stored == limit, str(stored)
            )
            pids = Counter()
            for line in (self.shape.tmp / "access.log").read_text().splitlines():
                parts = line.split()
                if len(parts) >= 5 and parts[4] == ip and parts[2] == "POST":
                    pids[parts[1], parts[0]] += 1
            answering = {pid for (_, pid) in pids}
            refusing = {pid for (status, pid) in pids if status == "429"}
            report.check(
                "the burst was answered by several gunicorn workers",
                len(answering) >= 2,
                f"{len(answering)} workers answered, {len(refusing)} of them refused",
            )

        self.finish("burst", load, extra=extra)

    def worker_kill(self):
        duration = self.options.fault_duration
        orphans = {}

        async def fault():
            await asyncio.sleep(duration * 0.35)
            # At work, not idle: what the scenario is about is a task killed mid-run.
            busy = await asyncio.to_thread(self.wait_for_running_task, 15)
            self.log(
                "worker_kill: SIGKILL to the task worker "
                + ("as it runs a task" if busy else "(no task seen running in 15 s)")
            )
            await asyncio.to_thread(self.shape.kill_worker)
            await asyncio.sleep(5)
            orphans["n"] = int(
                self.shape.psql(f"select count(*) from {checks.TASKS} where status = 'RUNNING'")
            )
            self.log(f"worker_kill: {orphans['n']} task(s) left running; starting it again")
            await asyncio.to_thread(self.shape.start_worker)

        load = self.run_load("worker_kill", duration, fault)
        self.figures["worker_kill"]["requeued_running_tasks"] = orphans.get("n")
        self.finish("worker_kill", load, killed_tasks=orphans.get("n") or 0)

    def wait_for_running_task(self, timeout):
        """Whether a task was seen running before ``timeout`` seconds passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if int(
                self.shape.psql(f"select count(*) from {checks.TASKS} where status = 'RUNNING'")
            ):
                return True
        return False

    def smtp_down(self):
        duration = self.options.fault_duration
        window = {}

        async def fault():
            await asyncio.sleep(duration * 0.25)
            self.log("smtp_down: stopping the SMTP server for 20 s")
            window["from"] = time.monotonic()
            await asyncio.to_thread(self.shape.stop_smtp)
            await asyncio.sleep(20)
            await asyncio.to_thread(self.shape.start_smtp)
            window["to"] = time.monotonic()
            self.log("smtp_down: SMTP server back")

        load = self.run_load("smtp_down", duration, fault)

        def extra(report):
            during = [
                (action, status)
                for t, action, status in load.stats.timeline
                if window["from"] <= t <= window["to"] and action == "submit"
            ]
            ok = [s for _, s in during if s == 302]
            report.check(
                "visitors filed tickets while the mail server was down",
                during and len(ok) == len(during),
                f"{len(ok)} of {len(during)} submissions answered 302 during the outage",
            )
            retried = int(
                self.shape.psql(
                    f"select count(*) from {checks.TASKS} "
                    "where (args_kwargs->'kwargs'->>'attempt')::int > 0"
                )
            )
            report.check("mails were retried after the outage", retried > 0, f"{retried} retries")

        self.finish("smtp_down", load, extra=extra)

    def pg_restart(self):
        duration = self.options.fault_duration
        window = {}

        async def fault():
            await asyncio.sleep(duration * 0.3)
            self.log("pg_restart: stopping PostgreSQL for 5 s")
            window["from"] = time.monotonic()
            await asyncio.to_thread(self.shape.stop_postgres, "fast")
            await asyncio.sleep(5)
            await asyncio.to_thread(self.shape.start_postgres)
            window["to"] = time.monotonic()
            self.log("pg_restart: PostgreSQL back")

        load = self.run_load("pg_restart", duration, fault)
        # helpdesk_worker waits for the database and carries on; a worker that exited
        # anyway is started again (as a supervisor would) and the check below fails.
        worker = self.shape.procs.get("worker")
        worker_died = worker is None or worker.poll() is not None
        if worker_died:
            self.log("pg_restart: the task worker exited with the database; starting it again")
            self.shape.procs.pop("worker", None)
            self.shape.start_worker()

        def extra(report):
            pages = load.stats.unavailable_pages
            clean = [p for p in pages if "Traceback" not in p[2] and "Busy" in p[2]]
            report.check(
                "requests during the outage got the clean 503 page",
                len(clean) == len(pages),
                f"{len(pages)} answered 503, {len(clean)} with the 'Busy for a moment' page",
            )
            settle = window["to"] + 10
            late = [
                (action, status)
                for t, action, status in load.stats.timeline
                if t > settle and (status >= 500 or status == 0)
            ]
            report.check(
                "service resumed by itself within 10 s of the restart",
                not late,
                f"{len(late)} failures after: {late[:5]}",
            )
            report.check(
                "the task worker survived the restart",
                not worker_died,
                "it exited and was started again" if worker_died else "",
            )

        self.finish("pg_restart", load, allow_503=True, extra=extra)

    # --- main ----------------------------------------------------------------------------

    def main(self):
        o = self.options
        scenarios = (
            o.scenarios.split(",")
            if o.scenarios
            else (["steady", "worker_kill"] if o.short else ALL)
        )
        self.log(f"load average at start: {' '.join(uptime())} ({os.cpu_count()} CPUs)")
        self.shape.start()
        code, text = self.shape.deploy_check
        deploy = checks.Report("deploy")
        deploy.check(
            "manage.py check --deploy is clean with the production settings",
            code == 0,
            text.splitlines()[-1] if text else "",
        )
        self.reports.append(deploy)
        asyncio.run(self.new_load("warmup", 0).warm_up())
        self.since = time.time()
        memory = Memory(self.shape)
        memory.start()
        try:
            for name in scenarios:
                getattr(self, name)()
        finally:
            memory.stopping.set()
        report = checks.Report("memory")
        memory.check(report)
        self.reports.append(report)
        self.log("\nmemory: checks")
        for line in report.lines():
            self.log(line)
        failed = [r for r in self.reports if not r.ok]
        self.log("\nsummary:")
        for r in self.reports:
            self.log(f"  {r.scenario:<12} {'ok' if r.ok else 'FAILED'}")
            # Repeated here, so the end of a CI log says which invariant broke.
            for line in r.lines():
                if line.startswith("  [FAIL]"):
                    self.log(f"    {line.strip()[:300]}")
        self.log(f"load average at end: {' '.join(uptime())}")
        if o.json:
            Path(o.json).write_text(
                json.dumps(
                    {
                        "figures": self.figures,
                        "checks": {
                            r.scenario: [
                                {"check": n, "ok": ok, "detail": d} for n, ok, d in r.results
                            ]
                            for r in self.reports
                        },
                    },
                    indent=1,
                )
            )
        return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="CI: steady load and worker_kill")
    parser.add_argument("--scenarios", help=f"comma-separated, from {','.join(ALL)}")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds of steady load (default 90; 20 with --short)",
    )
    parser.add_argument(
        "--fault-duration",
        type=float,
        default=None,
        help="seconds of load around each fault (default 60; 30 with --short)",
    )
    parser.add_argument(
        "--submit-rate", type=float, default=1.5, help="new ticket submissions started per second"
    )
    parser.add_argument(
        "--read-rate",
        type=float,
        default=1.0,
        help="reading visitors (4 pages each) started per second",
    )
    parser.add_argument("--json", help="write figures and checks to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    options = parser.parse_args(argv)
    if options.duration is None:
        options.duration = 20 if options.short else 90
    if options.fault_duration is None:
        options.fault_duration = 30 if options.short else 60
    runner = Runner(options)
    # `kill` or a CI timeout tears the shape down as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(143))
    try:
        return runner.main()
    except KeyboardInterrupt:
        return 130
    finally:
        runner.shape.stop()


if __name__ == "__main__":
    sys.exit(main())
