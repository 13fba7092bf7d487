#!/usr/bin/env python3
"""What a dashboard's sync costs, against what it replaces.

On the demo database of `reports.py` (1,000,000 responses and the follow-up wave, cached in
bench/.data/), with the release server:

1. paging through every response with `GET /api/v1/responses?limit=1000` from the start to
   `has_more: false`, against downloading the same rows as one CSV export
   (`GET /api/v1/exports/responses?format=csv`), each body read whole, in the same run;
2. the readiness report filtered to one country (`country=DE`) against the unfiltered one,
   both uncached (a date window no other request used), alternating.

Usage: python3 bench/sync.py [--runs 20]
(READINESS_BIN=path/to/readiness skips the release build and runs that binary.)
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
import urllib.request

from common import DATA, analyst_headers, build_release, demo_database, server


def fetch(url, headers):
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=3600) as response:
        body = response.read()
    return time.perf_counter() - started, body


def page_all(base, headers):
    started = time.perf_counter()
    rows, pages, cursor = 0, 0, None
    while True:
        url = f"{base}/api/v1/responses?limit=1000" + (f"&after={cursor}" if cursor else "")
        _, body = fetch(url, headers)
        page = json.loads(body)
        rows += len(page["responses"])
        pages += 1
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return time.perf_counter() - started, rows, pages


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args()

    build_release()
    _, url = demo_database(args.data, 200_000, 5, 42)
    headers = analyst_headers(url, "bench-sync")
    with server(url, os.path.join(args.data, "server-sync.log")) as (base, _process):
        export_time, csv = fetch(f"{base}/api/v1/exports/responses?format=csv", headers)
        csv_rows = csv.count(b"\n") - 1
        paging_time, rows, pages = page_all(base, headers)
        report = "/api/v1/reports/readiness?by=industry,size_band"
        unfiltered, filtered = [], []
        # Windows no other request used, so no remembered selection answers either.
        for day in range(args.runs):
            to = datetime.date(2026, 10, 1) - datetime.timedelta(days=2 * day)
            elapsed, _ = fetch(f"{base}{report}&to={to}", headers)
            unfiltered.append(elapsed)
            to = to - datetime.timedelta(days=1)
            elapsed, _ = fetch(f"{base}{report}&to={to}&country=DE", headers)
            filtered.append(elapsed)
    print()
    print(f"CSV export: {csv_rows} rows in {export_time:.1f} s")
    print(f"paging GET /responses?limit=1000: {rows} rows in {pages} pages, {paging_time:.1f} s"
          f" ({paging_time / pages * 1000:.0f} ms a page)")
    print(f"ratio paging / CSV export: {paging_time / export_time:.2f}")
    print(f"readiness report by industry x size band, uncached: unfiltered median"
          f" {statistics.median(unfiltered) * 1000:.1f} ms, country=DE median"
          f" {statistics.median(filtered) * 1000:.1f} ms over {args.runs} requests each;"
          f" ratio {statistics.median(filtered) / statistics.median(unfiltered):.2f}")
    if rows != csv_rows:
        print("MISMATCH: paging and the export gave different numbers of rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
