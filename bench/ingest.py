#!/usr/bin/env python3
"""Ingest benchmark: the same server's bare HTTP rate (`GET /healthz`) against its durable
submission rate (`POST /api/v1/surveys/ai-readiness/responses`, every one committed before
its 201), on SQLite and PostgreSQL, with wrk at 64 connections. Run through bench/ingest.sh,
which installs wrk and builds the release binary.

For each backend, on a fresh database: idle RSS; healthz rate; submission rate and p99 at
full load; p99 at half that rate; the submission rate with group commit off (one request per
transaction); peak RSS (VmHWM). Prints a table and the ratio submit / healthz.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "durability"))
from harness import Database, Server, create_key, finish  # noqa: E402

LUA = Path(__file__).resolve().parent / "ingest.lua"


def rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def wrk(port: int, mode: str, seconds: float, connections: int, threads: int,
        token: str = "", delay_ms: float = 0.0) -> dict[str, float]:
    path = "/healthz" if mode == "healthz" else "/"
    env = {**os.environ, "READINESS_BENCH_MODE": mode, "READINESS_BENCH_TOKEN": token,
           "READINESS_BENCH_RUN": f"{mode}-{time.time_ns()}",
           "READINESS_BENCH_DELAY_MS": f"{delay_ms:.4f}"}
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
         "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}{path}"],
        check=True, capture_output=True, text=True, env=env).stdout
    result = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            result[key] = float(value)
    if result.get("non_2xx") or result.get("socket_errors"):
        raise SystemExit(f"wrk {mode}: {result['non_2xx']:.0f} non-2xx replies, "
                         f"{result['socket_errors']:.0f} socket errors\n{out}")
    return result


def at_rate(port: int, token: str, target: float, seconds: float, connections: int,
            threads: int) -> dict[str, float]:
    """Offers about `target` submissions a second: each connection pauses between requests
    (closed loop, so latency is per request as wrk measures it). A short calibration run
    measures the per-request time that the pause must leave room for."""
    pause = connections * 1000.0 / target
    probe = wrk(port, "submit", 3, connections, threads, token, pause)
    per_request = max(connections * 1000.0 / probe["rate"] - pause, 0.0)
    return wrk(port, "submit", seconds, connections, threads, token,
               max(connections * 1000.0 / target - per_request, 0.0))


def bench(backend: str, args) -> dict:
    flags = ["--log-format", "json"]
    results: dict = {"backend": backend}

    database = Database.fresh(backend, "bench")
    server = None
    try:
        token = create_key(database, "collector", "bench", *args.key_flags)
        server = Server(database, env=args.server_env).start(*flags, *args.server_flags)
        time.sleep(1)
        results["idle_rss_mib"] = rss_kib(server.process.pid)["VmRSS"] / 1024
        wrk(server.port, "healthz", 2, args.connections, args.threads)  # warm-up
        healthz = wrk(server.port, "healthz", args.seconds, args.connections, args.threads)
        submit = wrk(server.port, "submit", args.seconds, args.connections, args.threads, token)
        half = at_rate(server.port, token, submit["rate"] / 2, args.seconds,
                       args.connections, args.threads)
        results.update({
            "healthz_rps": healthz["rate"], "healthz_p99_ms": healthz["p99_ms"],
            "submit_rps": submit["rate"], "submit_p99_ms": submit["p99_ms"],
            "ratio": submit["rate"] / healthz["rate"],
            "half_rps": half["rate"], "half_p50_ms": half["p50_ms"], "half_p99_ms": half["p99_ms"],
            "peak_rss_mib": rss_kib(server.process.pid)["VmHWM"] / 1024,
            "rows": int(database.rows("SELECT count(*) FROM responses")[0][0]),
        })
    finally:
        if server:
            server.stop()
        database.drop()

    # The same binary with group commit off: one request per transaction.
    database = Database.fresh(backend, "bench")
    server = None
    try:
        token = create_key(database, "collector", "bench", *args.key_flags)
        server = Server(database, env=args.server_env).start(
            *flags, *args.server_flags, "--group-commit-max-items", "1")
        time.sleep(1)
        off = wrk(server.port, "submit", args.seconds, args.connections, args.threads, token)
        results.update({"off_submit_rps": off["rate"], "off_submit_p99_ms": off["p99_ms"]})
    finally:
        if server:
            server.stop()
        database.drop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keys", choices=("growing", "random"), default="growing",
                        help="idempotency keys that grow (run-thread-counter) or start at random")
    args = parser.parse_args()
    os.environ["READINESS_BENCH_KEYS"] = args.keys
    # A trusted collector key, as production would configure one (see README).
    args.key_flags = ["--rate-limit-per-minute", "6000000"]
    args.server_flags = []
    args.server_env = {"RUST_LOG": "info"}

    rows = [bench(backend, args) for backend in args.backends.split(",")]
    print(f"\nwrk, {args.connections} connections, {args.threads} threads, {args.seconds:.0f} s per run, "
          f"{args.keys} idempotency keys, "
          f"{os.cpu_count()} cores shared by server and client")
    header = ("backend", "healthz req/s", "submit req/s", "ratio", "submit p99",
              "half rate", "p99 at half", "group commit off", "RSS idle / peak")
    print(" | ".join(header))
    for r in rows:
        print(" | ".join([
            r["backend"], f"{r['healthz_rps']:,.0f}", f"{r['submit_rps']:,.0f}",
            f"{r['ratio']:.0%}", f"{r['submit_p99_ms']:.1f} ms",
            f"{r['half_rps']:,.0f} req/s", f"{r['half_p99_ms']:.1f} ms",
            f"{r['off_submit_rps']:,.0f} req/s (p99 {r['off_submit_p99_ms']:.1f} ms)",
            f"{r['idle_rss_mib']:.0f} / {r['peak_rss_mib']:.0f} MiB",
        ]))
    for r in rows:
        print(json.dumps(r))
    return finish(True)


if __name__ == "__main__":
    sys.exit(main())
