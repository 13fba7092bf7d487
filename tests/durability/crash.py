#!/usr/bin/env python3
"""Crash safety: `kill -9` the server under sustained concurrent submissions, restart it,
retry every request that got no answer, then check that every acknowledged submission is
stored exactly once, that the database passes its integrity check, and that the report
agrees with the rows. Runs on SQLite and on PostgreSQL; exits non-zero on any violation.

    python3 tests/durability/crash.py [--backends sqlite,postgres] [--rounds 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

from harness import (Client, Database, Server, Violation, check_report, create_key, finish,
                     stored_keys, submission)

FIRMS = 2000
# The rate limiter stays on (600 a minute by default); the collector's key carries its own
# limit, as a trusted collector's would in production.
COLLECTOR_LIMIT = ["--rate-limit-per-minute", "6000000"]
SERVER_FLAGS = ["--report-refresh-ms", "0"]


class Load:
    """Client threads with client-generated idempotency keys; a thread stops at its first
    request without an answer and remembers it."""

    def __init__(self, port: int, token: str, threads: int, prefix: str):
        self.port, self.token, self.prefix = port, token, prefix
        self.acknowledged: dict[str, str] = {}
        self.unanswered: set[str] = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True)
                        for n in range(threads)]
        self.violations: list[str] = []

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)

    def run(self, n: int) -> None:
        client = Client(self.port, self.token)
        for seq in range(10**9):
            key = f"{self.prefix}-{n}-{seq}"
            try:
                status, reply = client.submit(key, submission(key, FIRMS))
            except OSError:
                with self.lock:
                    self.unanswered.add(key)
                return
            with self.lock:
                if status == 201:
                    self.acknowledged[key] = reply["id"]
                elif status >= 500:
                    self.unanswered.add(key)
                else:
                    self.violations.append(f"{key}: unexpected {status} {reply}")
                    return


def retry(port: int, token: str, keys: set[str], acknowledged: dict[str, str]) -> tuple[int, int]:
    """Sends every unanswered request again until it is answered; returns how many were
    stored only now (201) and how many had been stored before the crash (200)."""
    client = Client(port, token)
    created = replayed = 0
    for key in sorted(keys):
        for _ in range(100):
            status, reply = client.submit(key, submission(key, FIRMS))
            if status in (200, 201):
                acknowledged[key] = reply["id"]
                created += status == 201
                replayed += status == 200
                break
            if status not in (409, 503) and status < 500:
                raise Violation(f"retry of {key} answered {status}: {reply}")
            time.sleep(0.1)
        else:
            raise Violation(f"retry of {key} never succeeded")
    client.close()
    return created, replayed


def replays_match(port: int, token: str, acknowledged: dict[str, str], sample: int) -> int:
    """A retry of an acknowledged submission is a replay of the same response."""
    client = Client(port, token)
    keys = random.Random(7).sample(sorted(acknowledged), min(sample, len(acknowledged)))
    for key in keys:
        status, reply = client.submit(key, submission(key, FIRMS))
        if status != 200 or reply.get("id") != acknowledged[key]:
            raise Violation(f"replay of {key}: {status} {reply.get('id')} != {acknowledged[key]}")
    client.close()
    return len(keys)


def crash_run(backend: str, rounds: int, threads: int, load_seconds: float) -> None:
    print(f"== crash safety on {backend}: {rounds} rounds of {threads} clients, kill -9 after ~{load_seconds:.0f} s")
    database = Database.fresh(backend, "crash")
    server = None
    try:
        collector = create_key(database, "collector", "crash-collector", *COLLECTOR_LIMIT)
        analyst = create_key(database, "analyst", "crash-analyst")
        acknowledged: dict[str, str] = {}
        unanswered: set[str] = set()
        rng = random.Random(backend)
        for round_no in range(1, rounds + 1):
            server = Server(database).start(*SERVER_FLAGS)
            if unanswered:
                created, replayed = retry(server.port, collector, unanswered, acknowledged)
                print(f"  round {round_no}: retried {len(unanswered)} unanswered: "
                      f"{replayed} had been committed (200), {created} had not (201)")
                unanswered.clear()
            load = Load(server.port, collector, threads, f"{backend}-r{round_no}")
            load.start()
            time.sleep(load_seconds * rng.uniform(0.7, 1.3))
            before = len(load.acknowledged)
            server.kill()
            load.join()
            if load.violations:
                raise Violation("; ".join(load.violations[:5]))
            acknowledged.update(load.acknowledged)
            unanswered |= load.unanswered
            print(f"  round {round_no}: {len(load.acknowledged)} acknowledged "
                  f"({before} when kill -9 was sent), {len(load.unanswered)} without an answer")

        server = Server(database).start(*SERVER_FLAGS)
        created, replayed = retry(server.port, collector, unanswered, acknowledged)
        print(f"  after the last restart: retried {len(unanswered)} unanswered: "
              f"{replayed} had been committed (200), {created} had not (201)")
        replays = replays_match(server.port, collector, acknowledged, 200)
        print(f"  {replays} acknowledged submissions sent again: each replayed (200) with its original id")

        stored = stored_keys(database)
        missing = [k for k, id_ in acknowledged.items() if id_ not in stored.get(k, [])]
        twice = {k: ids for k, ids in stored.items() if len(ids) > 1}
        unknown = [k for k in stored if k not in acknowledged]
        rows = sum(len(ids) for ids in stored.values())
        print(f"  acknowledged {len(acknowledged)}, rows {rows}, missing {len(missing)}, "
              f"stored twice {len(twice)}, unknown {len(unknown)}")
        if missing or twice or unknown or rows != len(acknowledged):
            raise Violation(f"missing {missing[:5]}, twice {list(twice)[:5]}, unknown {unknown[:5]}")
        check_report(server.port, analyst, database, "report")
        server.stop()
        server = None
        integrity = database.integrity()
        print(f"  integrity check: {integrity}")
        if integrity != "ok":
            raise Violation(f"integrity check failed: {integrity}")
        print(f"  {backend}: PASS")
    finally:
        if server:
            server.kill()
        database.drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0, help="load before each kill -9")
    args = parser.parse_args()
    try:
        for backend in args.backends.split(","):
            crash_run(backend, args.rounds, args.clients, args.seconds)
    except Violation as violation:
        print(f"FAIL: {violation}", file=sys.stderr)
        return finish(False)
    return finish(True)


if __name__ == "__main__":
    sys.exit(main())
