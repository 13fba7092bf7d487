#!/usr/bin/env python3
"""Scale-out: two server processes on one PostgreSQL database, both sent the same
idempotency keys at the same time. Checks that nothing is lost or stored twice, that both
replicas name the same response for each key, and that both replicas' reports agree with
the rows (and with each other) once refreshed. Exits non-zero on any violation.

    python3 tests/durability/replicas.py [--keys 4000] [--clients 16]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter

from harness import (PERTURBATION, Client, Database, Server, Violation, check_report, create_key, finish,
                     report, stored_keys, submission, table_counts, wait_for)

FIRMS = 1500
REFRESH_MS = 250
SERVER_FLAGS = ["--report-refresh-ms", str(REFRESH_MS)]
# The collector's key carries its own limit; the server-wide default stays for the rest.
COLLECTOR_LIMIT = ["--rate-limit-per-minute", "6000000"]


def same(a, b) -> bool:
    """Equal JSON, with means compared to 1e-9: each replica sums its rows in the order it
    read them, so the last bits of a float may differ."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= 1e-9
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def drive(port: int, token: str, keys: list[str], results: dict, statuses: Counter,
          lock: threading.Lock, violations: list[str]) -> None:
    """Submits each key in order, retrying a `409` (the other replica holds the key)."""
    client = Client(port, token)
    for key in keys:
        body = submission(key, FIRMS)
        for _ in range(200):
            try:
                status, reply = client.submit(key, body)
            except OSError as error:
                violations.append(f"{key} on :{port}: {error}")
                return
            with lock:
                statuses[status] += 1
            if status in (200, 201):
                with lock:
                    results.setdefault(key, []).append((port, status, reply["id"]))
                break
            if status != 409:
                violations.append(f"{key} on :{port}: {status} {reply}")
                return
            time.sleep(0.01)
        else:
            violations.append(f"{key} on :{port}: still in flight after 200 tries")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=16, help="per replica")
    args = parser.parse_args()
    print(f"== two replicas on one PostgreSQL: {args.keys} keys, each sent to both, "
          f"{args.clients} clients per replica")
    database = Database.fresh("postgres", "replicas")
    servers: list[Server] = []
    try:
        collector = create_key(database, "collector", "replica-collector", *COLLECTOR_LIMIT)
        analyst = create_key(database, "analyst", "replica-analyst")
        servers = [Server(database).start(*SERVER_FLAGS), Server(database).start(*SERVER_FLAGS)]
        keys = [f"replica-{n:06d}" for n in range(args.keys)]
        # Client n of each replica sends the same keys in the same order, so each key
        # reaches both replicas at about the same moment.
        shares = [keys[n::args.clients] for n in range(args.clients)]
        results: dict[str, list] = {}
        statuses: Counter = Counter()
        violations: list[str] = []
        lock = threading.Lock()
        threads = [threading.Thread(target=drive, args=(server.port, collector, share, results,
                                                        statuses, lock, violations))
                   for share in shares for server in servers]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        if violations:
            raise Violation("; ".join(violations[:5]))
        print(f"  {sum(statuses.values())} requests in {elapsed:.1f} s: "
              + ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())))

        created = Counter()
        disagreements = []
        for key in keys:
            answers = results.get(key, [])
            created[sum(status == 201 for _, status, _ in answers)] += 1
            if len(answers) != 2 or len({id_ for _, _, id_ in answers}) != 1:
                disagreements.append((key, answers))
        per_replica = Counter(port for answers in results.values()
                              for port, status, _ in answers if status == 201)
        print(f"  keys created once: {created[1]}, created twice: {created[2]}, never: {created[0]}; "
              f"201s per replica: {[per_replica[s.port] for s in servers]}")
        if created[1] != len(keys) or disagreements:
            raise Violation(f"{created[2]} created twice, {created[0]} never, "
                            f"replicas disagree on {disagreements[:3]}")

        stored = stored_keys(database)
        lost = [k for k in keys if k not in stored]
        twice = [k for k, ids in stored.items() if len(ids) > 1]
        wrong = [k for k in keys if k in stored and stored[k][0] != results[k][0][2]]
        rows = sum(len(ids) for ids in stored.values())
        print(f"  rows {rows}: lost {len(lost)}, duplicated {len(twice)}, other id {len(wrong)}")
        if lost or twice or wrong or rows != len(keys):
            raise Violation(f"lost {lost[:5]}, duplicated {twice[:5]}, other id {wrong[:5]}")

        # Each replica refreshes its own snapshot from the database.
        total, _, _ = table_counts(database)
        for server in servers:
            # Published counts are perturbed: wait until the report is within the noise of
            # the total, then for one more refresh, so that it has read every row.
            wait_for(lambda s=server: abs(report(s.port, analyst)["overall"]["n"] - total) <= PERTURBATION,
                     30, f"the report of :{server.port} to show about {total} responses")
            time.sleep(3 * REFRESH_MS / 1000 + 1)
        bodies = [check_report(s.port, analyst, database, f"replica :{s.port}") for s in servers]
        segmented = [report(s.port, analyst, "basis=latest&by=industry,size_band") for s in servers]
        if not same(bodies[0], bodies[1]) or not same(segmented[0], segmented[1]):
            raise Violation("the two replicas' reports differ")
        print("  both replicas' reports are identical (basis=all; basis=latest by industry and size band)")
        print("  replicas: PASS")
    except Violation as violation:
        print(f"FAIL: {violation}", file=sys.stderr)
        return finish(False)
    finally:
        for server in servers:
            server.stop()
        database.drop()
    return finish(True)


if __name__ == "__main__":
    sys.exit(main())
