#!/usr/bin/env python3
"""Webhook deliveries, verified with the Standard Webhooks reference package.

On each backend (SQLite and PostgreSQL) the real server runs with private targets allowed
and fast retries. Two receivers listen on 127.0.0.1, each registered as an endpoint:

- `steady` verifies every delivery with `standardwebhooks.Webhook(secret).verify` and
  answers 204;
- `flaky` answers 500 to the first three attempts of every message, and lets the first
  attempt of one message run past the server's timeout, before it verifies and accepts.

Submissions are sent in two rounds with invalid submissions and replays of an erased firm
(refused: nothing stored) among them, one firm is erased, and between the rounds the
server is killed with SIGKILL while deliveries are in flight and started again. Then:

- every event in the database's change feed reaches both receivers, at least once;
- every delivery verifies, and every attempt of a message has the same body;
- no receiver ever hears of a response that is not stored or was not erased (a write that
  was refused or rolled back sends nothing);
- the deliveries log says `delivered`, with the flaky endpoint's attempts counted.

Usage: python3 tests/webhooks/deliveries.py [--backends sqlite,postgres]
Needs the `standardwebhooks` package (tests/webhooks/requirements.txt) and the built server
(READINESS_BIN, or the debug build in $CARGO_TARGET_DIR).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "durability"))
from harness import (  # noqa: E402
    Database,
    Server,
    Violation,
    create_key,
    request,
    submission,
)

FLAGS = ("--webhooks-allow-private", "--webhook-retry-base-ms", "200",
         "--webhook-timeout-ms", "1500", "--rate-limit-per-minute", "0")
FAILURES = 3


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records what it is sent."""

    def __init__(self, name: str, failures: int = 0, slow_first: bool = False):
        self.name, self.failures, self.slow_first = name, failures, slow_first
        self.secret = ""
        self.lock = threading.Lock()
        self.attempts: dict[str, list[bytes]] = {}
        self.verified: dict[str, dict] = {}
        self.bad: list[str] = []
        self.slowed = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                msg = self.headers.get("webhook-id", "")
                with receiver.lock:
                    attempts = receiver.attempts.setdefault(msg, [])
                    attempts.append(body)
                    count = len(attempts)
                    slow = receiver.slow_first and not receiver.slowed
                    receiver.slowed |= slow
                if slow:
                    time.sleep(3)  # past the server's timeout: a failed attempt
                if count <= receiver.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except Exception as error:  # the check reports it below
                    with receiver.lock:
                        receiver.bad.append(f"{msg}: {error}")
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.verified[msg] = payload
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/{name}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def call(port: int, method: str, path: str, token: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    status, payload = request(port, method, path, data, headers)
    return status, json.loads(payload) if payload else None


def submit_round(port: int, token: str, prefix: str, n: int) -> None:
    for i in range(n):
        key = f"{prefix}-{i}"
        body = json.loads(submission(key, 40))
        if i == 0:
            body["firm"]["ref"] = "wh-erased"
        status, _ = request(port, "POST", "/api/v1/surveys/ai-readiness/responses",
                            json.dumps(body).encode(),
                            {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                             "Idempotency-Key": key})
        if status not in (200, 201, 410):
            raise Violation(f"submission {key}: {status}")
        if i % 10 == 5:
            # Refused whole: nothing is stored, so nothing is sent.
            bad = dict(body, answers={"business_age": "nope"})
            status, _ = request(port, "POST", "/api/v1/surveys/ai-readiness/responses",
                                json.dumps(bad).encode(),
                                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            if status != 422:
                raise Violation(f"an invalid submission got {status}")


def run(backend: str) -> None:
    database = Database.fresh(backend, "webhooks")
    steady, flaky = Receiver("steady"), Receiver("flaky", FAILURES, slow_first=True)
    server = None
    try:
        admin = create_key(database, "admin", "webhooks-admin")
        collector = create_key(database, "collector", "webhooks-collector")
        server = Server(database).start(*FLAGS)
        endpoints = {}
        for receiver in (steady, flaky):
            status, created = call(server.port, "POST", "/api/v1/webhooks", admin,
                                   {"url": receiver.url, "description": receiver.name})
            if status != 201:
                raise Violation(f"registering {receiver.name}: {status} {created}")
            receiver.secret = created["secret"]
            endpoints[receiver.name] = created["id"]

        submit_round(server.port, collector, f"wh-{uuid.uuid4().hex[:6]}-a", 40)
        status, _ = call(server.port, "DELETE", "/api/v1/firms/wh-erased", admin)
        if status != 204:
            raise Violation(f"erasing: {status}")
        # Replays of the erased firm are refused and send nothing.
        submit_round(server.port, collector, f"wh-{uuid.uuid4().hex[:6]}-b", 3)

        # Kill the server while the flaky endpoint's deliveries are being retried.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not flaky.attempts:
            time.sleep(0.05)
        time.sleep(0.3)
        server.kill()
        in_flight = sum(len(a) for a in flaky.attempts.values())
        server = Server(database, port=server.port).start(*FLAGS)
        submit_round(server.port, collector, f"wh-{uuid.uuid4().hex[:6]}-c", 30)

        expected = feed(database)
        stored = {row[0] for row in database.rows("SELECT id FROM responses")}
        erased = {i for kind, _, ids in expected.values() if kind == "firm.erased" for i in ids}
        if not erased:
            raise Violation("the erasure is not in the change feed")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(set(expected) <= set(r.verified) for r in (steady, flaky)):
                break
            time.sleep(0.2)
        for receiver in (steady, flaky):
            missing = set(expected) - set(receiver.verified)
            if missing:
                raise Violation(f"{receiver.name} never got {len(missing)} events, e.g. {sorted(missing)[:3]}")
            if receiver.bad:
                raise Violation(f"{receiver.name} could not verify: {receiver.bad[:3]}")
            for msg, bodies in receiver.attempts.items():
                if len(set(bodies)) != 1:
                    raise Violation(f"{receiver.name}: the attempts of {msg} differ")
            for msg, payload in receiver.verified.items():
                data = payload["data"]
                named = [data["response_id"]] if "response_id" in data else data["response_ids"]
                unknown = set(named) - stored - erased
                if unknown:
                    raise Violation(f"{receiver.name} heard of responses never stored: {unknown}")
                if msg in expected and expected[msg][0] != payload["type"]:
                    raise Violation(f"{receiver.name}: {msg} is a {payload['type']}")
        retried = [len(flaky.attempts[m]) for m in expected]
        if min(retried) < FAILURES + 1:
            raise Violation(f"the flaky endpoint got an event in {min(retried)} attempts")
        log = deliveries(server.port, admin, endpoints["flaky"])
        statuses = {d["status"] for d in log if d["event_id"] in expected}
        if statuses != {"delivered"}:
            raise Violation(f"the flaky endpoint's log says {statuses}")
        attempts = min(d["attempts"] for d in log if d["event_id"] in expected)
        duplicates = sum(len(a) - 1 - FAILURES for a in flaky.attempts.values())
        print(f"{backend}: {len(expected)} events ({len(stored)} responses stored, {len(erased)} "
              f"erased) delivered to both endpoints and verified; flaky endpoint: at least "
              f"{attempts} attempts each, {in_flight} attempts before the kill -9, "
              f"{max(duplicates, 0)} extra deliveries after it")
    finally:
        if server:
            server.stop()
        steady.close()
        flaky.close()
        database.drop()


def feed(database: Database) -> dict[str, tuple[str, str, list[str]]]:
    """The change feed in the database: webhook-id → (type, response id, erased ids)."""
    rows = database.rows("SELECT txid, seq, kind, response_id, response_ids FROM changes")
    out = {}
    for txid, seq, kind, response_id, ids in rows:
        out[f"msg_{txid}_{seq}"] = (kind, response_id, json.loads(ids) if ids else [])
    return out


def deliveries(port: int, token: str, endpoint: str) -> list[dict]:
    out, cursor = [], None
    while True:
        path = f"/api/v1/webhooks/{endpoint}/deliveries?limit=500"
        if cursor:
            path += f"&cursor={cursor}"
        status, page = call(port, "GET", path, token)
        if status != 200:
            raise Violation(f"the deliveries log: {status}")
        out += page["deliveries"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    try:
        for backend in args.backends.split(","):
            run(backend)
    except Violation as violation:
        print(f"FAILED: {violation}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
