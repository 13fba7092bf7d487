#!/usr/bin/env python3
"""What a dashboard's sync costs, against what it replaces.

On the demo database of `reports.py` (1,000,000 responses and the follow-up wave, cached in
bench/.data/), with the release server:

1. paging through every response with `GET /api/v1/responses?limit=1000` from the start to
   the last page, against downloading the same rows as one CSV export
   (`GET /api/v1/exports/responses?format=csv`), in the same run: each body read whole (the
   pages followed by their `Link` header, as the CSV is read without parsing it), in
   `--rounds` alternating rounds (medians), then once more with
   each body parsed (every page with `json.loads`, the CSV with `csv.reader`), which is what
   a client does with the rows and costs the client, not the server;
2. the readiness report filtered to one country (`country=DE`) against the unfiltered one,
   both uncached (a date window no other request used), alternating.

Usage: python3 bench/sync.py [--runs 20] [--rounds 3]
(READINESS_BIN=path/to/readiness skips the release build and runs that binary.)
"""

import argparse
import csv
import datetime
import io
import json
import os
import statistics
import sys
import time
import urllib.request

from common import DATA, analyst_headers, build_release, demo_database, server


def fetch(url, headers, parse=None):
    """Seconds to read the body (and parse it, with `parse`), the body, and the response."""
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=3600) as response:
        body = response.read()
        parsed = parse(body) if parse else None
    return time.perf_counter() - started, body, response, parsed


def csv_rows(body):
    return sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1


def page_all(base, headers, parse):
    """Every page, from the first to the one that says there is no more."""
    started = time.perf_counter()
    rows, pages = 0, 0
    url = f"{base}/api/v1/responses?limit=1000"
    while True:
        _, body, response, page = fetch(url, headers, json.loads if parse else None)
        if parse:
            rows += len(page["responses"])
            more = page["has_more"]
        else:
            # The last page ends with `"has_more":false}`; the next page is linked.
            more = not body.endswith(b'"has_more":false}')
        pages += 1
        link = response.headers["Link"]
        url = base + link[link.index("<") + 1:link.index(">")]
        if not more:
            return time.perf_counter() - started, rows, pages


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of paging against the export")
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args()

    build_release()
    _, url = demo_database(args.data, 200_000, 5, 42)
    headers = analyst_headers(url, "bench-sync")
    # Paging twice through a million rows sends over 2,000 requests in a few minutes: the
    # rate limit is raised so that it never answers instead of the server.
    with server(url, os.path.join(args.data, "server-sync.log"),
                ("--rate-limit-per-minute", "1000000")) as (base, _process):
        export = f"{base}/api/v1/exports/responses?format=csv"
        exports, pagings = [], []
        for _ in range(args.rounds):
            exports.append(fetch(export, headers)[0])
            paging, _, pages = page_all(base, headers, parse=False)
            pagings.append(paging)
        export_time, paging_time = statistics.median(exports), statistics.median(pagings)
        export_parsed, _, _, exported = fetch(export, headers, csv_rows)
        paging_parsed, rows, _ = page_all(base, headers, parse=True)
        report = "/api/v1/reports/readiness?by=industry,size_band"
        unfiltered, filtered = [], []
        # Windows no other request used, so no remembered selection answers either.
        for day in range(args.runs):
            to = datetime.date(2026, 10, 1) - datetime.timedelta(days=2 * day)
            elapsed, _, _, _ = fetch(f"{base}{report}&to={to}", headers)
            unfiltered.append(elapsed)
            to = to - datetime.timedelta(days=1)
            elapsed, _, _, _ = fetch(f"{base}{report}&to={to}&country=DE", headers)
            filtered.append(elapsed)
    print()
    print(f"bodies read whole, {args.rounds} rounds alternating: CSV export"
          f" {[round(t, 1) for t in exports]} s; paging GET /responses?limit=1000, {pages} pages,"
          f" {[round(t, 1) for t in pagings]} s; medians {export_time:.1f} and {paging_time:.1f} s"
          f" ({paging_time / pages * 1000:.0f} ms a page), ratio {paging_time / export_time:.2f}")
    print(f"bodies parsed: CSV export, {exported} rows, {export_parsed:.1f} s; paging, {rows} rows,"
          f" {paging_parsed:.1f} s; ratio {paging_parsed / export_parsed:.2f}")
    print(f"readiness report by industry x size band, uncached: unfiltered median"
          f" {statistics.median(unfiltered) * 1000:.1f} ms, country=DE median"
          f" {statistics.median(filtered) * 1000:.1f} ms over {args.runs} requests each;"
          f" ratio {statistics.median(filtered) / statistics.median(unfiltered):.2f}")
    if rows != exported:
        print("MISMATCH: paging and the export gave different numbers of rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
