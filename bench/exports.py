#!/usr/bin/env python3
"""Readiness export benchmark.

Fills (or reuses) a SQLite database with `readiness demo` (default: 200,000 firms x 5
responses = 1,000,000 responses, seed 42), starts the release server on it and downloads
GET /api/v1/exports/responses in each format (CSV, Parquet, NDJSON). For each it prints the
time to the first byte, the total time, the bytes and rows received, and the server's peak
resident memory while it ran (VmRSS sampled every 10 ms), against the 300 MB the export may
use. As a baseline measured in the same run, Python's sqlite3 and csv modules write the same
CSV (same rows, same columns) from the same database.

Usage: python3 bench/exports.py [--firms 200000] [--responses-per-firm 5]
(READINESS_BIN=path/to/readiness skips the release build and runs that binary.)
"""

import argparse
import csv
import io
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.request

from common import DATA, analyst_headers, build_release, demo_database, server, status_kib

EXPORT = "/api/v1/exports/responses?format="
LIMIT_MB = 300


class PeakRss:
    """Samples a process's VmRSS every 10 ms while in use; `peak` is in MB (10^6 bytes)."""

    def __init__(self, pid):
        self.pid, self.peak_kib, self.running = pid, 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while self.running:
            self.peak_kib = max(self.peak_kib, status_kib(self.pid, "VmRSS"))
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @property
    def peak(self):
        return self.peak_kib * 1024 / 1e6


def download(url, headers):
    """Reads the whole body; returns (seconds to the first byte, total seconds, bytes, rows)."""
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    first = None
    size = lines = 0
    with urllib.request.urlopen(request, timeout=3600) as response:
        while True:
            chunk = response.read1(1 << 16)
            if not chunk:
                break
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    return first or 0.0, time.perf_counter() - started, size, lines


def baseline_csv(database):
    """The same CSV written by Python's sqlite3 and csv modules; returns (seconds, bytes)."""
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    questions = [q["key"] for q in json.loads(connection.execute(
        "SELECT definition FROM surveys WHERE slug = 'ai-readiness' ORDER BY version DESC").fetchone()[0])["questions"]]
    out = io.StringIO()
    size = 0
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["response_id", "survey", "version", "firm_ref", "industry", "size_band", "country", "region",
                     "submitted_at", "received_at"] + [f"answer_{q}" for q in questions]
                    + ["tier", "tier_rank", "ready_to_customise", "blockers", "score_maturity", "score_clarity",
                       "score_vendor_gap", "score_capability", "score_governance"])
    rows = connection.execute(
        "SELECT hex(r.id), s.slug, s.version, f.external_ref, r.industry, r.size_band, r.country, r.region,"
        " r.submitted_at, r.received_at, r.answers, r.tier, r.tier_rank, r.ready_to_customise, r.blockers,"
        " r.score_maturity, r.score_clarity, r.score_vendor_gap, r.score_capability, r.score_governance"
        " FROM responses r JOIN firms f ON f.id = r.firm_id JOIN surveys s ON s.id = r.survey_id"
        " ORDER BY r.received_at, r.id")
    for row in rows:
        answers = json.loads(row[10])
        writer.writerow(list(row[:10]) + [answers.get(q, "") for q in questions]
                        + [row[11], row[12], "true" if row[13] else "false", ";".join(json.loads(row[14]))]
                        + list(row[15:]))
        if out.tell() > 1 << 20:
            size += len(out.getvalue().encode())
            out.seek(0)
            out.truncate()
    size += len(out.getvalue().encode())
    connection.close()
    return time.perf_counter() - started, size


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=200_000)
    parser.add_argument("--responses-per-firm", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args()

    build_release()
    database, url = demo_database(args.data, args.firms, args.responses_per_firm, args.seed)
    headers = analyst_headers(url, "bench-exports")

    results = []
    with server(url, os.path.join(args.data, "server.log")) as (base, process):
        idle = status_kib(process.pid, "VmRSS") * 1024 / 1e6
        for format in ["csv", "parquet", "ndjson"]:
            with PeakRss(process.pid) as rss:
                first, total, size, lines = download(base + EXPORT + format, headers)
            rows = {"csv": lines - 1, "ndjson": lines}.get(format)
            results.append((format, first, total, size, rows, rss.peak))
            print(f"{format}: {total:.1f} s, first byte after {first * 1000:.0f} ms, {size / 1e6:.1f} MB,"
                  f" {rows if rows is not None else '-'} rows, peak RSS {rss.peak:.0f} MB", flush=True)
        high_water = status_kib(process.pid, "VmHWM") * 1024 / 1e6

    baseline, baseline_size = baseline_csv(database)
    print()
    print(f"server RSS idle {idle:.0f} MB; high-water mark over the whole run {high_water:.0f} MB"
          f" (limit {LIMIT_MB} MB)")
    print("format   time     first byte  size       rows       peak RSS")
    for format, first, total, size, rows, peak in results:
        print(f"{format:8} {total:6.1f} s {first * 1000:8.0f} ms {size / 1e6:7.1f} MB"
              f" {rows if rows is not None else '-':>10} {peak:6.0f} MB {'ok' if peak <= LIMIT_MB else 'OVER'}")
    csv_time = results[0][2]
    print(f"baseline: Python sqlite3 + csv writes the same CSV ({baseline_size / 1e6:.1f} MB) in {baseline:.1f} s;"
          f" ratio readiness/baseline {csv_time / baseline:.2f}")
    return 0 if all(peak <= LIMIT_MB for *_, peak in results) and high_water <= LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
