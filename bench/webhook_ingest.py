#!/usr/bin/env python3
"""Ingest with a webhook endpoint registered, against ingest without one, in the same run.

For each backend, two fresh databases and the same release server (private targets allowed):
one with no endpoint, one with one endpoint registered whose receiver (on 127.0.0.1, in this
process) answers 204 to everything. wrk submits at full load for `--seconds` on each, three
times, alternating; the medians of the submission rates and their ratio are printed, with how
many deliveries the receiver got meanwhile. The delivery worker shares the machine (and, on
SQLite, the one writer) with the submissions, which is what is measured.

Run through bench/ingest.sh's setup (wrk installed, the release binary built):
  READINESS_BIN=$CARGO_TARGET_DIR/release/readiness python3 bench/webhook_ingest.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ingest import wrk
from harness import Database, Server, create_key, request


class Receiver:
    """Counts deliveries and answers 204."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (the standard library's name)
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def run(backend: str, webhook: bool, args, receiver: Receiver) -> float:
    database = Database.fresh(backend, "bench")
    server = None
    try:
        token = create_key(database, "collector", "bench", "--rate-limit-per-minute", "6000000")
        admin = create_key(database, "admin", "bench-admin")
        server = Server(database, env={"RUST_LOG": "warn"}).start("--webhooks-allow-private")
        if webhook:
            status, body = request(server.port, "POST", "/api/v1/webhooks",
                                   json.dumps({"url": receiver.url}).encode(),
                                   {"Authorization": f"Bearer {admin}",
                                    "Content-Type": "application/json"})
            if status != 201:
                raise SystemExit(f"registering the endpoint: {status} {body!r}")
        wrk(server.port, "submit", 2, args.connections, args.threads, token)  # warm-up
        return wrk(server.port, "submit", args.seconds, args.connections, args.threads, token)["rate"]
    finally:
        if server:
            server.stop()
        database.drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    receiver = Receiver()
    for backend in args.backends.split(","):
        without, with_hook = [], []
        before = receiver.count
        for _ in range(args.rounds):
            without.append(run(backend, False, args, receiver))
            with_hook.append(run(backend, True, args, receiver))
        a, b = statistics.median(without), statistics.median(with_hook)
        print(f"{backend}: submissions/s without an endpoint {[round(x) for x in without]}, with one "
              f"{[round(x) for x in with_hook]}; medians {a:,.0f} and {b:,.0f}, ratio {b / a:.2f}; "
              f"{receiver.count - before} deliveries received during the runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
