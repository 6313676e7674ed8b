"""The benchmark the README documents runs on a fresh checkout (small, on SQLite)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_bench_measures_every_scenario(tmp_path):
    out = tmp_path / "results.jsonl"
    env = dict(os.environ, TMPDIR=str(tmp_path))
    env.pop("WT_DB", None)
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tickets", "30", "--articles", "10"]
        + ["--requests", "2", "--db", "sqlite", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [json.loads(line) for line in out.read_text().splitlines()] == printed

    spec = importlib.util.spec_from_file_location("wt_bench_run", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert [row["scenario"] for row in printed] == list(bench.SCENARIOS)
    from tests.mail.dovecot import binary

    for row in printed:
        if row["scenario"] == "mail_ingest" and binary() is None:
            assert row.get("skipped"), row  # no Dovecot here; .ci/run installs it
            continue
        assert not row.get("skipped"), row
        assert row["db"] == "sqlite" and row["tickets"] >= 30 and row["requests"] == 2
        assert row["queries"] > 0, row
        assert 0 < row["p50_ms"] <= row["p95_ms"], row
        assert 0 <= row["sql_p50_ms"] <= row["p50_ms"], row
        assert 0 < row["peak_rss_mib"] < 1024, row
        if row["scenario"] == "mail_ingest":
            assert row["mail_per_s"] > 0 and 0 < row["large_mail_peak_rss_mib"] < 1024, row
        assert row["shape"] == "realistic" and row["tasks"] == "default", row
    # The writes ran their notifications, after the response, as on a site.
    writes = {row["scenario"]: row for row in printed if row["scenario"] in ("submit", "reply")}
    for row in writes.values():
        assert row["after_response_queries"] > 0, row
        assert row["total_p50_ms"] >= row["p50_ms"], row


def test_bench_measures_writes_through_the_worker(tmp_path):
    """--shape helpdesk --tasks worker: the requests queue, then db_worker runs the queue."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    env.pop("WT_DB", None)
    result = subprocess.run(
        [sys.executable, str(BENCH), "--tickets", "20", "--requests", "2", "--db", "sqlite"]
        + ["--shape", "helpdesk", "--tasks", "worker", "--scenario", "submit"]
        + ["--scenario", "reply"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {json.loads(line)["scenario"]: json.loads(line) for line in result.stdout.splitlines()}
    for name in ("submit", "reply"):
        assert rows[name]["shape"] == "helpdesk" and rows[name]["tasks"] == "worker"
        assert "after_response_p50_ms" not in rows[name], "a worker backend runs nothing here"
    drained = rows["worker_drain"]
    assert drained["queued"] > 0 and drained["failed"] == 0
    assert drained["mails"] > 0, "the worker sent the notifications"
