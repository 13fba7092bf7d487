#!/usr/bin/env python3
"""Readiness report benchmark.

Fills a SQLite database with `readiness demo` (default: 200,000 firms x 5 responses =
1,000,000 responses, seed 42), starts the release server on it and times
GET /api/v1/reports/readiness?by=industry,size_band cold (the first request loads the
snapshot from the database), warm (the median of repeated requests, which reuse the remembered
selection of each firm's latest response) and uncached (a new date window on each request, so
every request selects again). In the same run
DuckDB runs the same aggregation (each firm's latest response; counts per tier, ready to
customise, mean dimension scores, overall and per industry x size band) on the same rows held
in memory, and the ratio of the two warm medians is printed. The server's memory (RSS) before
and after the snapshot is loaded is reported too. Then the change report by size band
(`/api/v1/reports/change`, baseline 2025, follow-up 2026) is timed against the readiness
report by size band over the same span, both uncached (every request moves its windows by a
day), alternating, and the ratio of the medians is printed; the demo's follow-up wave (20 %
of the firms answering again) gives it a panel.

Usage: python3 bench/reports.py [--firms 200000] [--responses-per-firm 5] [--runs 30]
(READINESS_BIN=path/to/readiness skips the release build and runs that binary.)
"""

import argparse
import csv
import datetime
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request

from common import DATA, ROOT, analyst_headers, build_release, demo_database, run, server, status_kib

REPORT = "/api/v1/reports/readiness?by=industry,size_band"
READINESS_BY_SIZE = "/api/v1/reports/readiness?by=size_band"
CHANGE = "/api/v1/reports/change?by=size_band"


def rss_mib(pid):
    return status_kib(pid, "VmRSS") / 1024


def p95(times):
    return sorted(times)[int(len(times) * 0.95) - 1]


def get(url, headers):
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        body = response.read()
    return time.perf_counter() - started, json.loads(body)


def change_timings(base, headers, runs):
    """The change report by size band against the readiness report by size band over the
    same span, both uncached: every request moves its windows by a day, so each selects each
    firm's latest response again (the change report twice, once per window, and joins them).
    The requests alternate so that both see the same state of the machine."""
    readiness, change = [], []
    panel = None
    for day in range(runs):
        shift = datetime.timedelta(days=day)
        baseline_from = datetime.date(2025, 1, 1) + shift
        baseline_to = datetime.date(2025, 12, 31) - shift
        followup_from = datetime.date(2026, 1, 1) + shift
        followup_to = datetime.date(2026, 10, 31) - shift
        elapsed, _ = get(f"{base}{READINESS_BY_SIZE}&from={baseline_from}&to={followup_to}", headers)
        readiness.append(elapsed)
        elapsed, body = get(f"{base}{CHANGE}&baseline_from={baseline_from}&baseline_to={baseline_to}"
                            f"&followup_from={followup_from}&followup_to={followup_to}", headers)
        change.append(elapsed)
        panel = panel or body["panel"]
    return readiness, change, panel


def ensure_duckdb():
    try:
        import duckdb  # noqa: F401
    except ImportError:
        run([sys.executable, "-m", "pip", "install", "-q", "-r", os.path.join(ROOT, "bench", "requirements.txt")])


DUCKDB_QUERY = """
WITH latest AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY firm ORDER BY submitted_at DESC, seq DESC) AS rn
        FROM responses
    ) WHERE rn = 1
)
SELECT industry, size_band, count(*) AS n,
       sum(CASE WHEN tier_rank = 1 THEN 1 ELSE 0 END) AS tier_1,
       sum(CASE WHEN tier_rank = 2 THEN 1 ELSE 0 END) AS tier_2,
       sum(CASE WHEN tier_rank = 3 THEN 1 ELSE 0 END) AS tier_3,
       sum(CASE WHEN tier_rank = 4 THEN 1 ELSE 0 END) AS tier_4,
       sum(CASE WHEN ready THEN 1 ELSE 0 END) AS ready,
       avg(score_maturity), avg(score_clarity), avg(score_vendor_gap),
       avg(score_capability), avg(score_governance)
FROM latest
GROUP BY GROUPING SETS ((industry, size_band), ())
"""


def duckdb_timings(database, runs):
    import duckdb

    folder = tempfile.mkdtemp(prefix="readiness-bench-")
    try:
        path = os.path.join(folder, "responses.csv")
        source = sqlite3.connect(database)
        with open(path, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["seq", "firm", "industry", "size_band", "tier_rank", "ready", "score_maturity",
                             "score_clarity", "score_vendor_gap", "score_capability", "score_governance",
                             "submitted_at"])
            rows = source.execute(
                "SELECT rowid, hex(firm_id), industry, size_band, tier_rank, ready_to_customise, score_maturity,"
                " score_clarity, score_vendor_gap, score_capability, score_governance, submitted_at FROM responses")
            writer.writerows(rows)
        source.close()
        connection = duckdb.connect()
        connection.execute(f"CREATE TABLE responses AS SELECT * REPLACE (ready::BOOLEAN AS ready, "
                           f"submitted_at::TIMESTAMPTZ AS submitted_at) FROM read_csv_auto('{path}')")
        count = connection.execute("SELECT count(*) FROM responses").fetchone()[0]
        results = connection.execute(DUCKDB_QUERY).fetchall()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            connection.execute(DUCKDB_QUERY).fetchall()
            times.append(time.perf_counter() - started)
        overall = [r for r in results if r[0] is None][0]
        return count, overall[2], times
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--responses-per-firm", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args()

    build_release()
    ensure_duckdb()
    database, url = demo_database(args.data, args.firms, args.responses_per_firm, args.seed)
    headers = analyst_headers(url, "bench")

    with server(url, os.path.join(args.data, "server.log")) as (base, process):
        idle = rss_mib(process.pid)
        cold, body = get(base + REPORT, headers)
        loaded = rss_mib(process.pid)
        warm = []
        for _ in range(args.runs):
            elapsed, body = get(base + REPORT, headers)
            warm.append(elapsed)
        # Uncached: a new date window on every request, so no selection of each firm's latest
        # response is remembered; every request computes it.
        uncached = []
        for day in range(args.runs):
            to = datetime.date(2026, 10, 1) - datetime.timedelta(days=day)
            elapsed, _ = get(f"{base}{REPORT}&to={to}", headers)
            uncached.append(elapsed)
        change = change_timings(base, headers, args.runs)
        peak = rss_mib(process.pid)
        n = body["overall"]["n"]

    rows, duck_n, duck = duckdb_timings(database, args.runs)
    ours = statistics.median(warm)
    theirs = statistics.median(duck)
    print()
    print(f"rows: {rows} responses; firms counted (basis=latest): readiness {n}, duckdb {duck_n}")
    print(f"readiness cold (first request, loads the snapshot): {cold * 1000:.0f} ms")
    print(f"readiness warm: median {ours * 1000:.1f} ms, p95 {sorted(warm)[int(len(warm) * 0.95) - 1] * 1000:.1f} ms"
          f" over {len(warm)} requests (HTTP + JSON included)")
    print(f"readiness uncached (a new window each request): median {statistics.median(uncached) * 1000:.1f} ms,"
          f" p95 {sorted(uncached)[int(len(uncached) * 0.95) - 1] * 1000:.1f} ms over {len(uncached)} requests")
    print(f"duckdb warm:    median {theirs * 1000:.1f} ms, p95 {sorted(duck)[int(len(duck) * 0.95) - 1] * 1000:.1f} ms"
          f" over {len(duck)} queries (in-process, no HTTP)")
    print(f"ratio readiness/duckdb (warm medians): {ours / theirs:.2f}")
    readiness_by_size, change_by_size, panel = change
    print(f"change report by size_band, uncached (a new window pair each request): median"
          f" {statistics.median(change_by_size) * 1000:.1f} ms, p95 {p95(change_by_size) * 1000:.1f} ms;"
          f" readiness by size_band over the same span, uncached: median"
          f" {statistics.median(readiness_by_size) * 1000:.1f} ms, p95 {p95(readiness_by_size) * 1000:.1f} ms")
    print(f"ratio change/readiness (uncached medians): "
          f"{statistics.median(change_by_size) / statistics.median(readiness_by_size):.2f}"
          f" (first panel: {panel.get('firms')} firms, attrition {panel.get('baseline_only')},"
          f" new {panel.get('followup_only')})")
    print(f"server RSS: idle {idle:.0f} MiB, after the snapshot loaded {loaded:.0f} MiB, peak {peak:.0f} MiB")
    # A server that perturbs its counts publishes n within 2 of the true count.
    if abs(n - duck_n) > 2:
        print("MISMATCH: the two engines counted different firms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
