"""A `304 Not Modified` against `GET /healthz` with the same key, on one release server.

Fills a SQLite database with `readiness demo` (cached in bench/.data), starts the server with
rate limiting off, computes the readiness report once to take its ETag, then times, on one
keep-alive connection each and in alternating rounds, `GET /healthz` with the analyst key
(authentication and routing, no work) and `GET /api/v1/reports/readiness?by=industry` with
that key and `If-None-Match: <ETag>` (authentication, parsing, the validator, the 304). Prints
both medians, the ratio, and checks from the server's metrics that no report was computed
for the 304s.
"""

import argparse
import http.client
import os
import statistics
import sys
import time
import urllib.parse

import common


def timed(connection, path, headers, expect, count):
    """Latencies in microseconds of `count` sequential GETs, each answering `expect`."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1e6)
        if response.status != expect:
            sys.exit(f"{path} answered {response.status}, not {expect}")
    return latencies


def computed_reports(connection):
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith('readiness_report_duration_seconds_count{report="readiness"} '):
            return float(line.split()[-1])
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=2000, help="per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=common.DATA)
    args = parser.parse_args()
    common.build_release()
    print(f"binary: {common.BINARY}")
    _, url = common.demo_database(args.data, args.firms, 1, 42)
    headers = common.analyst_headers(url, f"conditional-bench-{os.getpid()}")
    log = os.path.join(args.data, "conditional-server.log")
    with common.server(url, log, ["--rate-limit-per-minute", "0"]) as (base, _):
        address = urllib.parse.urlparse(base)
        health = http.client.HTTPConnection(address.hostname, address.port)
        reports = http.client.HTTPConnection(address.hostname, address.port)
        report = "/api/v1/reports/readiness?by=industry"
        reports.request("GET", report, headers=headers)
        first = reports.getresponse()
        first.read()
        etag = first.getheader("ETag")
        conditional = {**headers, "If-None-Match": etag}
        # Warm both paths, then let the snapshot's refresh interval pass.
        timed(health, "/healthz", headers, 200, 200)
        timed(reports, report, conditional, 304, 200)
        before = computed_reports(health)
        healthz, not_modified = [], []
        for _ in range(args.rounds):
            healthz += timed(health, "/healthz", headers, 200, args.requests)
            not_modified += timed(reports, report, conditional, 304, args.requests)
        after = computed_reports(health)
    health_median = statistics.median(healthz)
    conditional_median = statistics.median(not_modified)
    p95 = lambda xs: statistics.quantiles(xs, n=20)[-1]
    print(f"GET /healthz with a key:           median {health_median:7.1f} us  p95 {p95(healthz):7.1f} us  ({len(healthz)} requests)")
    print(f"GET report, If-None-Match -> 304: median {conditional_median:7.1f} us  p95 {p95(not_modified):7.1f} us  ({len(not_modified)} requests)")
    print(f"ratio 304 / healthz: {conditional_median / health_median:.2f}")
    print(f"reports computed during the 304s: {after - before:.0f}")
    if after != before:
        sys.exit("a 304 computed a report")


if __name__ == "__main__":
    main()
