"""What the report and export benchmarks share: the release binary, the cached demo database,
an analyst key, and a release server on it."""

import contextlib
import os
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("READINESS_BIN", os.path.join(TARGET, "release", "readiness"))
DATA = os.path.join(ROOT, "bench", ".data")


def run(command, **kwargs):
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def build_release():
    """Builds the release server unless READINESS_BIN names one."""
    if "READINESS_BIN" not in os.environ:
        run(["cargo", "build", "--release", "-q", "-p", "readiness-api"], cwd=ROOT)


def status_kib(pid, field):
    """A `/proc/PID/status` figure in KiB (VmRSS, VmHWM, ...)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def demo_database(data, firms, responses_per_firm, seed):
    """The SQLite file `readiness demo` fills with these arguments, generated once and cached
    in `data`; returns its path and database URL."""
    os.makedirs(data, exist_ok=True)
    database = os.path.join(data, f"reports-{firms}x{responses_per_firm}-{seed}.db")
    url = f"sqlite://{database}?mode=rwc"
    if not os.path.exists(database):
        started = time.perf_counter()
        run([BINARY, "demo", "--firms", str(firms), "--responses-per-firm", str(responses_per_firm),
             "--seed", str(seed), "--database-url", url])
        print(f"generated in {time.perf_counter() - started:.1f} s")
    return database, url


def analyst_headers(url, name):
    """Request headers with a new analyst key for the database at `url`."""
    key = run([BINARY, "keys", "create", "--role", "analyst", "--name", name, "--database-url", url],
              capture_output=True, text=True)
    return {"Authorization": f"Bearer {key.stdout.strip()}"}


@contextlib.contextmanager
def server(url, log, extra_args=()):
    """A release server on a free port, answering `/healthz`; yields (base URL, process).
    `extra_args` go to `readiness serve`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([BINARY, "serve", "--bind", f"127.0.0.1:{port}", "--database-url", url,
                                *extra_args],
                               stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=60)
