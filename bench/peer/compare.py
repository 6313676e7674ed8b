#!/usr/bin/env python
"""wagtail-tickets beside django-helpdesk, scenario by scenario, in one sitting.

    make bench-peer PEER_ARGS="--tickets 20000 --keep"        # prints the peer's database
    make bench BENCH_ARGS="--shape helpdesk --tickets 20000 --keep"
    .venv/bin/python bench/peer/compare.py --db sqlite --ours PATH --peer PATH

Both databases are kept ones (``--keep``) of the same workload. For each scenario and
round, this runs the peer's script and ours with ``--reuse``, one after the other (which
goes first alternates between rounds), so that both see the machine in the same state;
a ratio is taken within each round, and the table gives the median of the rounds' p50s
and of their ratios (with the rounds' lowest and highest ratio). A busy spell then moves
both sides of a ratio instead of one.

The peer's ticket list renders its rows from a second request: its inbox figures are the
page plus its first page of rows (``inbox`` + ``inbox_data``), what an agent waits for.
Ours is the p50 the visitor waits for; with the default task backend, the mails and the
re-index run after the response (``after_response``), reported beside it.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
OURS = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "run.py")]
PEER = [
    str(ROOT / ".venv-peer" / "bin" / "python"),
    str(ROOT / "bench" / "peer" / "helpdesk_peer.py"),
]

#: Scenario → (the peer's scenarios whose p50s add up to it, the issue's highest ratio).
SCENARIOS = {
    "department_form": (["department_form"], 1.0),
    "submit": (["submit"], 1.5),
    "reply": (["reply"], 1.5),
    "ticket": (["ticket"], 0.7),
    "inbox": (["inbox", "inbox_data"], None),
    "inbox_search": (["inbox_search", "inbox_search_data"], None),
    "dashboard": (["dashboard"], None),
}
#: With a worker backend, writes must cost at most what the peer's cost.
WORKER_TARGETS = {"submit": 1.0, "reply": 1.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ours", required=True, help="our kept database (file or name)")
    parser.add_argument("--peer", required=True, help="the peer's kept database")
    parser.add_argument("--tasks", choices=["default", "worker"], default="default")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per run")
    parser.add_argument("--scenario", action="append", dest="scenarios", choices=sorted(SCENARIOS))
    parser.add_argument("--out", help="also append every run's JSON line to this file")
    return parser.parse_args(argv)


def run(command, args):
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if args.out:
        with open(args.out, "a") as out:
            out.writelines(json.dumps(line) + "\n" for line in lines)
    return {line["scenario"]: line for line in lines}


def ours(name, args):
    command = [*OURS, "--db", args.db, "--reuse", args.ours, "--tasks", args.tasks]
    command += ["--requests", str(args.requests), "--scenario", name]
    return run(command, args)[name]


def peer(names, args):
    command = [*PEER, "--db", args.db, "--reuse", args.peer, "--requests", str(args.requests)]
    for name in names:
        command += ["--scenario", name]
    lines = run(command, args)
    return {
        "p50_ms": sum(lines[n]["p50_ms"] for n in names),
        "queries": sum(lines[n]["queries"] for n in names),
    }


def measure(name, args):
    peer_names, _target = SCENARIOS[name]
    rounds = []
    for n in range(args.rounds):
        if n % 2:
            theirs, mine = peer(peer_names, args), ours(name, args)
        else:
            mine, theirs = ours(name, args), peer(peer_names, args)
        rounds.append((mine, theirs))
        print(
            f"# {name} round {n + 1}: ours {mine['p50_ms']} ms, peer {theirs['p50_ms']} ms",
            file=sys.stderr,
            flush=True,
        )
    return rounds


def summary(name, rounds, args):
    _names, target = SCENARIOS[name]
    if args.tasks == "worker":
        target = WORKER_TARGETS.get(name)
    ratios = [mine["p50_ms"] / theirs["p50_ms"] for mine, theirs in rounds]
    after = [m.get("after_response_p50_ms") for m, _t in rounds if "after_response_p50_ms" in m]
    return {
        "scenario": name,
        "db": args.db,
        "tasks": args.tasks,
        "tickets": rounds[0][0]["tickets"],
        "rounds": len(rounds),
        "ours_p50_ms": round(statistics.median(m["p50_ms"] for m, _t in rounds), 2),
        "peer_p50_ms": round(statistics.median(t["p50_ms"] for _m, t in rounds), 2),
        "ratio": round(statistics.median(ratios), 2),
        "ratio_range": [round(min(ratios), 2), round(max(ratios), 2)],
        "target": target,
        "met": None if target is None else statistics.median(ratios) <= target,
        "ours_queries": rounds[-1][0]["queries"],
        "peer_queries": rounds[-1][1]["queries"],
        **({"ours_after_response_p50_ms": round(statistics.median(after), 2)} if after else {}),
    }


def main(argv=None):
    args = parse_args(argv)
    results = []
    for name in args.scenarios or SCENARIOS:
        result = summary(name, measure(name, args), args)
        print(json.dumps(result), flush=True)
        results.append(result)
    print(f"\n| scenario ({args.db}, tasks {args.tasks}) | ours ms | peer ms | ratio | target |")
    print("|---|---|---|---|---|")
    for r in results:
        low, high = r["ratio_range"]
        target = (
            "" if r["target"] is None else f"≤ {r['target']} {'met' if r['met'] else 'NOT met'}"
        )
        print(
            f"| {r['scenario']} | {r['ours_p50_ms']} ({r['ours_queries']} q) "
            f"| {r['peer_p50_ms']} ({r['peer_queries']} q) | {r['ratio']} ({low}–{high}) "
            f"| {target} |"
        )


if __name__ == "__main__":
    main()
