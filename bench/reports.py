#!/usr/bin/env python3
"""Readiness report benchmark: cold, cached and uncached reports against DuckDB and Polars.

Fills a SQLite database with `readiness demo` (default: 200,000 firms x 5 responses, seed 42,
about 1,040,000 responses), or uses a PostgreSQL database filled the same way
(`--postgres URL`), and starts the release server on it. Then, for three reports

  readiness  GET /api/v1/reports/readiness?by=industry,size_band
  trend      GET /api/v1/reports/trend?interval=month&by=size_band
  blockers   GET /api/v1/reports/blockers?by=size_band

it times (HTTP and JSON included, medians and p95 over --runs requests):

- cold: the first report after the server starts, which loads the snapshot from the
  database; once with the page cache dropped first (`echo 1 > /proc/sys/vm/drop_caches`,
  root only; reported as not measured otherwise) and once with the database file read into
  the page cache first. The server's own log line gives the load's parts.
- cached: the same request repeated (the snapshot's per-survey index of each row's next
  row is built; the report is computed again each time).
- uncached: a new date window on every request (`from` one day later and `to` one day
  earlier than the previous request's), so that no two requests select the same rows.

In the same run, on the same rows held in memory and the same windows, 2 threads each:

- DuckDB, best plan found: the rows loaded in time order with an ordinal; per window the
  highest ordinal of each firm (per firm and month for the trend), joined back, grouped
  with GROUPING SETS. A `row_number()` window is DuckDB's slow plan here.
- Python Polars on the time-sorted frame: filter the window, `is_last_distinct` on the firm
  (firm and month for the trend), group by.

It prints the ratios Readiness uncached / DuckDB and / Polars per report, the snapshot's
bytes per response (the server's own estimate), and the server's RSS (idle, after the load,
peak). `--growth` runs the server's measures at 20,000, 200,000 and 2,000,000 firms (about
100k, 1M and 10M responses; each database generated once and cached) and prints a table.

Usage: python3 bench/reports.py [--firms 200000] [--responses-per-firm 5] [--runs 30]
       [--postgres postgres://postgres@127.0.0.1:5432/bench_reports] [--growth]
(READINESS_BIN=path/to/readiness skips the release build and runs that binary.)
"""

import argparse
import datetime
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

os.environ.setdefault("POLARS_MAX_THREADS", "2")

from common import BINARY, DATA, ROOT, analyst_headers, build_release, demo_database, run, server, status_kib

REPORTS = {
    "readiness": "/api/v1/reports/readiness?by=industry,size_band",
    "trend": "/api/v1/reports/trend?interval=month&by=size_band",
    "blockers": "/api/v1/reports/blockers?by=size_band",
}
CHANGE = "/api/v1/reports/change?by=size_band"
READINESS_BY_SIZE = "/api/v1/reports/readiness?by=size_band"
# The demo's responses are submitted from 2025-01-01 to 2026-10-22.
FIRST_DAY = datetime.date(2025, 1, 1)
LAST_DAY = datetime.date(2026, 10, 22)
LOG_FIELDS = ("rows", "memory_bytes", "took_ms", "reading_ms", "appending_ms", "sorting_ms")


def window(i):
    """The i-th uncached window: days [from, to], both inclusive, as the API takes them."""
    return FIRST_DAY + datetime.timedelta(days=i), LAST_DAY - datetime.timedelta(days=i)


def micros(day):
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp()) * 1_000_000


def median(times):
    return statistics.median(times)


def p95(times):
    return sorted(times)[max(0, int(len(times) * 0.95) - 1)]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def get(url, headers):
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=900) as response:
        body = response.read()
    return time.perf_counter() - started, json.loads(body)


def rss_mib(pid, field="VmRSS"):
    return status_kib(pid, field) / 1024


def drop_page_cache():
    """Drops the page cache; False where the machine does not allow it."""
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as control:
            control.write("1\n")
        return True
    except OSError:
        return False


def restart_postgres():
    """Restarts the local PostgreSQL cluster on port 5432 (its shared buffers start empty);
    False where that cannot be done."""
    try:
        clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
        for line in clusters.stdout.splitlines():
            version, name, port = line.split()[:3]
            if port == "5432":
                subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True)
                return True
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    return False


def read_file(path):
    with open(path, "rb") as source:
        while source.read(1 << 24):
            pass


def snapshot_log(log):
    """The fields of the server's `report snapshot refreshed` line of the first load."""
    with open(log, errors="replace") as lines:
        for line in lines:
            if "report snapshot refreshed" in line:
                plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
                return {name: int(value) for name, value in re.findall(r"(\w+)=(\d+)", plain) if name in LOG_FIELDS}
    return {}


def cold(url, log, headers, drop, database):
    """A fresh server's first report: seconds, the load's log fields, RSS idle / after the
    load / peak until then (MiB), or None when the page cache could not be dropped."""
    if drop:
        # PostgreSQL's own buffers too: the cluster restarts, then the page cache is dropped.
        if url.startswith("postgres") and not restart_postgres():
            return None
        if not drop_page_cache():
            return None
    elif database:
        read_file(database)
    with server(url, log) as (base, process):
        idle = rss_mib(process.pid)
        elapsed, _ = get(base + REPORTS["readiness"], headers)
        loaded = rss_mib(process.pid)
        peak = rss_mib(process.pid, "VmHWM")
    return elapsed, snapshot_log(log), idle, loaded, peak


def timed(base, headers, path, runs, uncached):
    times, body = [], None
    for i in range(runs):
        query = path
        if uncached:
            start, end = window(i)
            query = f"{path}&from={start}&to={end}"
        elapsed, body = get(base + query, headers)
        times.append(elapsed)
    return times, body


def change_timings(base, headers, runs):
    """The change report by size band against the readiness report by size band over the
    same span, both uncached (every request moves its windows by a day), alternating."""
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


def measure_server(url, log, headers, runs, database, with_change):
    """Cold (dropped and not), then cached and uncached timings of each report on one server."""
    result = {"cold_dropped": cold(url, log, headers, True, database),
              "cold": cold(url, log, headers, False, database)}
    with server(url, log) as (base, process):
        result["idle_mib"] = rss_mib(process.pid)
        get(base + REPORTS["readiness"], headers)
        result["load"] = snapshot_log(log)
        result["loaded_mib"] = rss_mib(process.pid)
        result["overall_n"] = get(base + REPORTS["readiness"], headers)[1]["overall"]["n"]
        start, end = window(0)
        result["window_n"] = get(f"{base}{REPORTS['readiness']}&from={start}&to={end}", headers)[1]["overall"]["n"]
        for name, path in REPORTS.items():
            # The first request of each report builds what later ones reuse; not timed.
            get(base + path, headers)
            result[name] = {"cached": timed(base, headers, path, runs, False)[0],
                            "uncached": timed(base, headers, path, runs, True)[0]}
        if with_change:
            result["change"] = change_timings(base, headers, runs)
        result["peak_mib"] = rss_mib(process.pid, "VmHWM")
        result["steady_mib"] = rss_mib(process.pid)
    return result


# --- the baselines --------------------------------------------------------------------------

def load_rows(database):
    """The responses of the SQLite file as columns, in time order (ties by rowid), with each
    firm as an integer, the month index and one boolean column per gate."""
    source = sqlite3.connect(database)
    rows = source.execute(
        "SELECT f.rowid, r.industry, r.size_band, r.tier_rank, r.ready_to_customise, r.score_maturity,"
        " r.score_clarity, r.score_vendor_gap, r.score_capability, r.score_governance,"
        " unixepoch(r.submitted_at) * 1000000,"
        " CAST(strftime('%Y', r.submitted_at) AS INTEGER) * 12 + CAST(strftime('%m', r.submitted_at) AS INTEGER) - 1,"
        " r.blockers FROM responses r JOIN firms f ON f.id = r.firm_id"
        " ORDER BY unixepoch(r.submitted_at), r.rowid").fetchall()
    source.close()
    names = ["firm", "industry", "size_band", "tier_rank", "ready", "score_maturity", "score_clarity",
             "score_vendor_gap", "score_capability", "score_governance", "submitted_at", "month"]
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    columns["ready"] = [bool(v) for v in columns["ready"]]
    blockers = [json.loads(row[12]) for row in rows]
    gates = sorted({gate for listed in blockers for gate in listed})
    for index, gate in enumerate(gates):
        columns[f"g{index}"] = [gate in listed for listed in blockers]
    columns["ord"] = list(range(len(rows)))
    return columns, len(gates)


READINESS_AGGREGATES = """count(*) AS n,
       sum((tier_rank = 1)::INT) AS tier_1, sum((tier_rank = 2)::INT) AS tier_2,
       sum((tier_rank = 3)::INT) AS tier_3, sum((tier_rank = 4)::INT) AS tier_4,
       sum(ready::INT) AS ready,
       avg(score_maturity), avg(score_clarity), avg(score_vendor_gap),
       avg(score_capability), avg(score_governance)"""

DUCKDB_READINESS = f"""
WITH latest AS (
    SELECT max(ord) AS ord FROM responses
    WHERE submitted_at >= $from AND submitted_at < $until GROUP BY firm
)
SELECT industry, size_band, {READINESS_AGGREGATES}
FROM responses JOIN latest USING (ord)
GROUP BY GROUPING SETS ((industry, size_band), ())
"""

DUCKDB_TREND = f"""
WITH latest AS (
    SELECT max(ord) AS ord FROM responses
    WHERE submitted_at >= $from AND submitted_at < $until GROUP BY firm, month
)
SELECT month, size_band, {READINESS_AGGREGATES}
FROM responses JOIN latest USING (ord)
GROUP BY GROUPING SETS ((month, size_band), (month))
"""


def duckdb_blockers(gates):
    sums = ", ".join(f"sum(g{i}::INT) AS g{i}" for i in range(gates))
    return f"""
WITH latest AS (
    SELECT max(ord) AS ord FROM responses
    WHERE submitted_at >= $from AND submitted_at < $until GROUP BY firm
)
SELECT tier_rank, size_band, count(*) AS n, {sums}
FROM responses JOIN latest USING (ord)
GROUP BY GROUPING SETS ((tier_rank, size_band), (tier_rank))
"""


def duckdb_timings(columns, gates, runs):
    import duckdb
    import polars as pl

    frame = pl.DataFrame(columns)
    connection = duckdb.connect()
    connection.execute("SET threads = 2")
    connection.register("frame", frame)
    connection.execute("CREATE TABLE responses AS SELECT * FROM frame ORDER BY ord")
    connection.unregister("frame")
    queries = {"readiness": DUCKDB_READINESS, "trend": DUCKDB_TREND, "blockers": duckdb_blockers(gates)}
    timings = {}
    for name, sql in queries.items():
        times = []
        for i in range(runs):
            start, end = window(i)
            parameters = {"from": micros(start), "until": micros(end + datetime.timedelta(days=1))}
            started = time.perf_counter()
            connection.execute(sql, parameters).fetchall()
            times.append(time.perf_counter() - started)
        timings[name] = times
    everything = {"from": 0, "until": 1 << 62}
    overall = [r for r in connection.execute(DUCKDB_READINESS, everything).fetchall() if r[0] is None][0][2]
    start, end = window(0)
    first = {"from": micros(start), "until": micros(end + datetime.timedelta(days=1))}
    windowed = [r for r in connection.execute(DUCKDB_READINESS, first).fetchall() if r[0] is None][0][2]
    connection.close()
    return timings, overall, windowed


def polars_timings(columns, gates, runs):
    import polars as pl

    frame = pl.DataFrame(columns)
    readiness = [pl.len().alias("n")] + [(pl.col("tier_rank") == r).sum().alias(f"tier_{r}") for r in range(1, 5)]
    readiness += [pl.col("ready").sum()] + [pl.col(c).mean() for c in columns if c.startswith("score_")]
    blockers = [pl.len().alias("n")] + [pl.col(f"g{i}").sum() for i in range(gates)]

    def latest(start, end, by):
        rows = frame.filter((pl.col("submitted_at") >= micros(start))
                            & (pl.col("submitted_at") < micros(end + datetime.timedelta(days=1))))
        return rows.filter(pl.struct(by).is_last_distinct() if len(by) > 1 else pl.col(by[0]).is_last_distinct())

    def readiness_report(start, end):
        rows = latest(start, end, ["firm"])
        return rows.group_by("industry", "size_band").agg(readiness), rows.select(readiness)

    def trend_report(start, end):
        rows = latest(start, end, ["firm", "month"])
        return rows.group_by("month", "size_band").agg(readiness), rows.group_by("month").agg(readiness)

    def blockers_report(start, end):
        rows = latest(start, end, ["firm"])
        return rows.group_by("tier_rank", "size_band").agg(blockers), rows.group_by("tier_rank").agg(blockers)

    timings = {}
    for name, report in (("readiness", readiness_report), ("trend", trend_report), ("blockers", blockers_report)):
        times = []
        for i in range(runs):
            start, end = window(i)
            started = time.perf_counter()
            report(start, end)
            times.append(time.perf_counter() - started)
        timings[name] = times
    return timings


# --- the run ----------------------------------------------------------------------------------

def postgres_database(url, firms, responses_per_firm, seed):
    """Fills the PostgreSQL database at `url` with the demo unless it holds responses, creating
    the database first when the server does not have it."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    exists = subprocess.run(["psql", maintenance, "-tAc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            capture_output=True, text=True, check=True)
    if exists.stdout.strip() != "1":
        run(["psql", maintenance, "-c", f'CREATE DATABASE "{name}"'])
    count = subprocess.run(["psql", url, "-tAc", "SELECT count(*) FROM responses"],
                           capture_output=True, text=True)
    if count.returncode != 0 or int(count.stdout.strip() or 0) == 0:
        started = time.perf_counter()
        run([BINARY, "demo", "--firms", str(firms), "--responses-per-firm", str(responses_per_firm),
             "--seed", str(seed), "--database-url", url])
        print(f"generated in {time.perf_counter() - started:.1f} s")
    return url


def print_server(result, label):
    print(f"\n== {label}")
    for key, title in (("cold_dropped", "page cache dropped first"), ("cold", "file in the page cache")):
        measured = result[key]
        if measured is None:
            print(f"cold, {title}: not measured (the page cache could not be dropped here)")
            continue
        elapsed, load, idle, loaded, peak = measured
        print(f"cold, {title}: {elapsed:.2f} s (load: {load.get('took_ms')} ms = reading"
              f" {load.get('reading_ms')} + appending {load.get('appending_ms')} + sorting {load.get('sorting_ms')});"
              f" RSS idle {idle:.0f} MiB, after the load {loaded:.0f} MiB, peak during it {peak:.0f} MiB"
              f" ({peak / loaded:.2f}x the RSS after it)")
    load = result["load"]
    rows = load.get("rows") or 1
    print(f"snapshot: {load.get('rows')} rows, {load.get('memory_bytes', 0) / 2**20:.0f} MiB,"
          f" {load.get('memory_bytes', 0) / rows:.0f} bytes per response")
    print(f"server RSS: idle {result['idle_mib']:.0f} MiB, after the load {result['loaded_mib']:.0f} MiB,"
          f" at the end {result['steady_mib']:.0f} MiB, peak {result['peak_mib']:.0f} MiB"
          f" ({result['peak_mib'] * 2**20 / max(1, load.get('memory_bytes', 1)):.2f}x the snapshot)")
    for name in REPORTS:
        for kind in ("cached", "uncached"):
            times = result[name][kind]
            print(f"{name} {kind}: median {ms(median(times))}, p95 {ms(p95(times))} over {len(times)} requests")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--responses-per-firm", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--postgres", help="a PostgreSQL database to fill and run on instead of SQLite")
    parser.add_argument("--growth", action="store_true",
                        help="the server's measures at 20,000, 200,000 and 2,000,000 firms")
    args = parser.parse_args()

    build_release()
    log = os.path.join(args.data, "server.log")
    os.makedirs(args.data, exist_ok=True)
    if args.growth:
        table = []
        for firms in (20_000, 200_000, 2_000_000):
            database, url = demo_database(args.data, firms, args.responses_per_firm, args.seed)
            headers = analyst_headers(url, "bench")
            result = measure_server(url, log, headers, args.runs, database, False)
            print_server(result, f"{firms} firms")
            table.append(result)
        print("\n| responses | cold, cache dropped | cold, cached file | readiness uncached | trend uncached"
              " | blockers uncached | bytes per response | peak RSS |")
        print("|---|---|---|---|---|---|---|---|")
        for result in table:
            rows = result["load"].get("rows") or 1
            colds = [f"{r[0]:.2f} s" if r else "not measured" for r in (result["cold_dropped"], result["cold"])]
            uncached = [ms(median(result[name]["uncached"])) for name in REPORTS]
            print(f"| {rows:,} | {colds[0]} | {colds[1]} | {' | '.join(uncached)} |"
                  f" {result['load'].get('memory_bytes', 0) / rows:.0f} | {result['peak_mib']:.0f} MiB |")
        return 0

    if args.postgres:
        url, database = postgres_database(args.postgres, args.firms, args.responses_per_firm, args.seed), None
        sqlite_file, _ = demo_database(args.data, args.firms, args.responses_per_firm, args.seed)
    else:
        database, url = demo_database(args.data, args.firms, args.responses_per_firm, args.seed)
        sqlite_file = database
    headers = analyst_headers(url, "bench")
    result = measure_server(url, log, headers, args.runs, database, not args.postgres)
    print_server(result, "PostgreSQL" if args.postgres else "SQLite")
    if args.postgres:
        return 0

    columns, gates = load_rows(sqlite_file)
    duck, duck_n, duck_window_n = duckdb_timings(columns, gates, args.runs)
    polars = polars_timings(columns, gates, args.runs)
    print(f"\nbaselines on the same {len(columns['ord']):,} rows in memory, the same windows, 2 threads:")
    print("DuckDB plan: rows in time order with an ordinal `ord`; per window"
          " `SELECT firm, max(ord) ... WHERE submitted_at >= $from AND submitted_at < $until GROUP BY firm`"
          " (firm, month for the trend), joined back on `ord`, grouped with GROUPING SETS:")
    print(DUCKDB_READINESS.strip())
    print("Polars: the time-sorted frame, filter(window), is_last_distinct(firm), group_by\n")
    print("| report | Readiness uncached | Readiness cached | DuckDB best plan | Polars | uncached / DuckDB"
          " | uncached / Polars |")
    print("|---|---|---|---|---|---|---|")
    for name in REPORTS:
        ours = median(result[name]["uncached"])
        print(f"| {name} | {ms(ours)} | {ms(median(result[name]['cached']))} | {ms(median(duck[name]))}"
              f" | {ms(median(polars[name]))} | {ours / median(duck[name]):.2f} | {ours / median(polars[name]):.2f} |")
    readiness_by_size, change_by_size, panel = result["change"]
    print(f"\nchange report by size_band, uncached: median {ms(median(change_by_size))}, p95 {ms(p95(change_by_size))};"
          f" readiness by size_band over the same span, uncached: median {ms(median(readiness_by_size))};"
          f" ratio {median(change_by_size) / median(readiness_by_size):.2f}"
          f" (first panel: {panel.get('firms')} firms, attrition {panel.get('baseline_only')},"
          f" new {panel.get('followup_only')})")
    print(f"firms counted: Readiness {result['overall_n']} (window 0: {result['window_n']}),"
          f" DuckDB {duck_n} (window 0: {duck_window_n})")
    # A server that perturbs its counts publishes n within 2 of the true count.
    if abs(result["overall_n"] - duck_n) > 2 or abs(result["window_n"] - duck_window_n) > 2:
        print("MISMATCH: the engines counted different firms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
