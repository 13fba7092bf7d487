"""Shared parts of the durability checks: databases, the real server, submissions, checks.

Standard library only. The server is the real `readiness` binary (READINESS_BIN, default
$CARGO_TARGET_DIR/debug/readiness); PostgreSQL is reached with `psql` as the `postgres` user
on 127.0.0.1:5432 (READINESS_PG_HOST / READINESS_PG_PORT / READINESS_PG_USER change that).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENT = json.loads((ROOT / "analytics/instruments/ai-readiness-v1.json").read_text())
SUBMIT_PATH = "/api/v1/surveys/ai-readiness/responses"
PG_HOST = os.environ.get("READINESS_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("READINESS_PG_PORT", "5432")
PG_USER = os.environ.get("READINESS_PG_USER", "postgres")
INDUSTRIES = "ABCDEFGHIJKLMNOPQRSTU"
# Every server's log goes here; a check removes it when it passes and names it when it fails.
LOG_DIR = Path(tempfile.mkdtemp(prefix="readiness-logs-"))
SIZE_BANDS = ["micro", "small", "medium", "large"]
COUNTRIES = ["DE", "FR", "IT", "ES", "NL", "AT", "PL", "SE"]


def readiness_bin() -> str:
    explicit = os.environ.get("READINESS_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "debug" / "readiness")


class Violation(Exception):
    """A broken guarantee; the check exits non-zero."""


# --- databases -------------------------------------------------------------------------


def psql(sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", database,
         "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        check=True, capture_output=True, text=True,
    )
    return result.stdout


def text(value) -> str:
    """A value read from SQLite as PostgreSQL's text output has it (UUIDs are 16-byte blobs)."""
    if value is None:
        return ""
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    return str(value)


@dataclass
class Database:
    """A fresh database: an SQLite file in a scratch directory or a new PostgreSQL database."""

    backend: str
    url: str
    name: str = ""
    scratch: str = ""

    @classmethod
    def fresh(cls, backend: str, label: str) -> "Database":
        if backend == "sqlite":
            scratch = tempfile.mkdtemp(prefix=f"readiness-{label}-")
            path = Path(scratch) / "readiness.db"
            return cls(backend, f"sqlite://{path}?mode=rwc", name=str(path), scratch=scratch)
        name = f"readiness_{label}_{int(time.time())}_{uuid.uuid4().hex[:8]}"
        psql(f'CREATE DATABASE "{name}"')
        return cls(backend, f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}", name=name)

    def drop(self) -> None:
        if self.backend == "sqlite":
            shutil.rmtree(self.scratch, ignore_errors=True)
        else:
            psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self, sql: str) -> list[tuple[str, ...]]:
        """Runs a query; every value comes back as text."""
        if self.backend == "sqlite":
            with sqlite3.connect(f"file:{self.name}?mode=ro", uri=True) as conn:
                return [tuple(text(v) for v in row) for row in conn.execute(sql).fetchall()]
        out = psql(sql, self.name)
        return [tuple(line.split("|")) for line in out.splitlines() if line]

    def integrity(self) -> str:
        """The engine's own consistency check of the stored data: `ok` or what is wrong."""
        if self.backend == "sqlite":
            with sqlite3.connect(f"file:{self.name}?mode=ro", uri=True) as conn:
                result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
                fk = conn.execute("PRAGMA foreign_key_check").fetchall()
            if fk:
                result.append(f"{len(fk)} foreign key violations")
            return "ok" if result == ["ok"] else "; ".join(result)
        # amcheck verifies every B-tree index of the two tables against the heap.
        psql("CREATE EXTENSION IF NOT EXISTS amcheck", self.name)
        indexes = self.rows(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('responses', 'firms')")
        for (index,) in indexes:
            psql(f"SELECT bt_index_check('{index}'::regclass, true)", self.name)
        orphans = self.rows(
            "SELECT count(*) FROM responses r LEFT JOIN firms f ON f.id = r.firm_id "
            "WHERE f.id IS NULL")[0][0]
        if orphans != "0":
            return f"{orphans} responses without their firm"
        return "ok"


# --- the server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_key(database: Database, role: str, name: str, *extra: str) -> str:
    result = subprocess.run(
        [readiness_bin(), "keys", "create", "--role", role, "--name", name, *extra,
         "--database-url", database.url],
        check=True, capture_output=True, text=True,
    )
    return result.stdout.strip()


@dataclass
class Server:
    database: Database
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log: Path | None = None
    env: dict[str, str] = field(default_factory=lambda: {"RUST_LOG": "warn"})

    def start(self, *flags: str) -> "Server":
        """Starts `readiness serve` on the database (flags may add `--log-format`)."""
        if self.log is None:
            self.log = LOG_DIR / f"server-{self.port}-{time.time_ns()}.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [readiness_bin(), "serve", "--bind", f"127.0.0.1:{self.port}",
                 "--database-url", self.database.url, *flags],
                stdout=log, stderr=log, env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start; see {self.log}")
            try:
                status, _ = request(self.port, "GET", "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start; see {self.log}")

    def kill(self) -> None:
        """`kill -9`: no shutdown, no flush, nothing in flight is finished."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Client:
    """One keep-alive connection; any transport failure closes it and raises OSError."""

    def __init__(self, port: int, token: str, timeout: float = 30.0):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn: http.client.HTTPConnection | None = None

    def submit(self, key: str, body: bytes) -> tuple[int, dict]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request("POST", SUBMIT_PATH, body=body, headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            })
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise OSError(str(error)) from error
        return response.status, json.loads(payload) if payload else {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- submissions -----------------------------------------------------------------------


def submission(key: str, firms: int) -> bytes:
    """A valid, realistic submission, the same every time for the same key (so a retry
    is the same request): random answers, one of `firms` firms."""
    rng = random.Random(hashlib.sha256(key.encode()).digest())
    firm = rng.randrange(firms)
    firm_rng = random.Random(firm)
    answers = {q["key"]: rng.choice(q["options"])["key"] for q in INSTRUMENT["questions"]}
    return json.dumps({
        "firm": {
            "ref": f"firm-{firm:06d}",
            "industry": firm_rng.choice(INDUSTRIES),
            "size_band": firm_rng.choice(SIZE_BANDS),
            "country": firm_rng.choice(COUNTRIES),
        },
        "answers": answers,
        "submitted_at": "2026-10-01T12:00:00Z",
    }).encode()


# --- checks ----------------------------------------------------------------------------


def stored_keys(database: Database) -> dict[str, list[str]]:
    """Idempotency key → ids of the rows holding it (more than one would be a duplicate).
    The database stores `<scope> <key>` (the scope is the id of the API key that sent it); one
    collector sends everything here, so the client's key alone is unique."""
    found: dict[str, list[str]] = {}
    for stored, row_id in database.rows("SELECT idempotency_key, id FROM responses"):
        key = stored.split(" ", 1)[1] if stored else stored
        found.setdefault(key, []).append(row_id)
    return found


def report(port: int, token: str, query: str = "basis=all") -> dict:
    status, body = request(port, "GET", f"/api/v1/reports/readiness?{query}",
                           headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if status != 200:
        raise Violation(f"the readiness report answered {status}: {body[:300]!r}")
    return json.loads(body)


def report_counts(body: dict) -> tuple[int, dict[str, int]]:
    overall = body["overall"]
    return overall["n"], {tier["key"]: tier["count"] for tier in overall["tiers"]}


def table_counts(database: Database) -> tuple[int, int, dict[str, int]]:
    """Rows, firms with a response, and rows per tier, read straight from the tables."""
    rows = int(database.rows("SELECT count(*) FROM responses")[0][0])
    firms = int(database.rows("SELECT count(DISTINCT firm_id) FROM responses")[0][0])
    tiers = {tier: int(n) for tier, n in
             database.rows("SELECT tier, count(*) FROM responses GROUP BY tier")}
    return rows, firms, tiers


# The most the server's default perturbation table moves a published count.
PERTURBATION = 2


def check_report(port: int, token: str, database: Database, label: str) -> dict:
    """The report (`basis=all` and `basis=latest`) agrees with the rows, within the
    perturbation of published counts; returns it."""
    rows, firms, tiers = table_counts(database)
    everything = report(port, token, "basis=all")
    n, by_tier = report_counts(everything)
    latest_n, _ = report_counts(report(port, token, "basis=latest"))
    by_tier = {tier: count for tier, count in by_tier.items() if count}
    # Reports perturb every count (the cell key method; the default table moves a count by
    # at most 2), so each must be within that of the tables.
    close = lambda published, true: abs(published - true) <= PERTURBATION
    tiers_close = all(close(by_tier.get(t, 0), tiers.get(t, 0)) for t in set(by_tier) | set(tiers))
    if not (close(n, rows) and tiers_close and close(latest_n, firms)):
        raise Violation(
            f"{label}: the report says n={n} tiers={by_tier} firms={latest_n}; "
            f"the tables hold {rows} rows, tiers {tiers}, {firms} firms")
    print(f"  {label}: report n={n} (basis=all), {latest_n} firms (basis=latest), tiers {by_tier}: "
          f"agree with the tables within {PERTURBATION}")
    return everything


def finish(passed: bool) -> int:
    """Removes the server logs of a passing check; keeps and names them otherwise."""
    if passed:
        shutil.rmtree(LOG_DIR, ignore_errors=True)
        return 0
    print(f"server logs: {LOG_DIR}", file=sys.stderr)
    return 1


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Violation(f"timed out waiting for {what}")
        time.sleep(0.1)
