"""Checks the reports' clustered intervals (basis `all`) against statsmodels.

For 50 random data sets (firms with one to six responses each, a size band and an industry
per firm, a random tier and random failed gates per response), the `cluster_intervals`
example publishes the readiness and blockers reports with basis `all` by size band, exact
counts, unweighted and weighted to random margins. For every share of every cell (each tier,
ready to customise, each gate of each tier's blockers; weighted too), this script computes

- the cluster-robust variance of the share, firm as cluster: statsmodels' OLS (unweighted)
  or WLS (weighted, with the raking weights, which this script fits itself by iterative
  proportional fitting) of the indicator on a constant with `cov_type="cluster"`;
- the design effect max(1, variance / (p (1 - p) / n)), `n` being the number of responses
  or, weighted, their Kish effective size;
- the 95 % Wilson score interval on n / deff,

and requires the crate's interval to agree to 1e-9. It prints "N passed, M failed" and exits
non-zero on any difference.

Run from the repository root, in a virtual environment with the pinned packages:

    python3 -m venv /var/tmp/readiness-est-venv
    /var/tmp/readiness-est-venv/bin/pip install -r analytics/check/requirements-cluster.txt
    /var/tmp/readiness-est-venv/bin/python analytics/check/cluster_crosscheck.py

The script builds the example with cargo (honouring CARGO_TARGET_DIR) unless --example names
its executable; --sets and --seed choose the data sets (50, 21).
"""

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import statsmodels.api as sm

ROOT = Path(__file__).resolve().parents[2]
Z95 = 1.959963984540054
TOLERANCE = 1e-9
INDUSTRIES = ["C", "F", "G", "J", "M"]
SIZES = ["micro", "small", "medium"]
TIER_KEYS = ["vendor_prompting", "vendor_rag", "fine_tune", "own_model"]
GATES_BY_RANK = {
    2: ["vendor_rag.task_definition", "vendor_rag.knowledge_organisation",
        "vendor_rag.inhouse_skill", "vendor_rag.prior_attempts"],
    3: ["fine_tune.business_age", "fine_tune.revenue_trend", "fine_tune.vendor_gap",
        "fine_tune.training_examples"],
    4: ["own_model.data_or_spend", "own_model.inhouse_skill", "own_model.ai_ownership"],
}


def build_example():
    messages = subprocess.run(
        ["cargo", "build", "--quiet", "-p", "readiness-analytics", "--example",
         "cluster_intervals", "--message-format", "json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in messages.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") \
                and message["target"]["name"] == "cluster_intervals":
            return message["executable"]
    sys.exit("cargo built no cluster_intervals executable")


def random_responses(rng):
    """Responses of 40-160 firms; a firm's responses lean towards one tier, so they cluster."""
    rows = []
    for firm in range(rng.randrange(40, 161)):
        industry, size = rng.choice(INDUSTRIES), rng.choice(SIZES)
        leaning = rng.randrange(1, 5)
        for _ in range(rng.randrange(1, 7)):
            rank = leaning if rng.random() < 0.7 else rng.randrange(1, 5)
            gates = GATES_BY_RANK.get(rank + 1, [])
            failed = [g for g in gates if rng.random() < (0.3 + 0.1 * (firm % 5))]
            rows.append({"id": len(rows) + 1, "firm": firm + 1, "industry": industry,
                         "size_band": size, "rank": rank, "blockers": failed})
    return rows


def random_margins(rng):
    return {
        "industry": {c: rng.randrange(100, 5000) for c in INDUSTRIES},
        "size_band": {c: rng.randrange(100, 5000) for c in SIZES},
    }


def rake(rows, margins):
    """Each response's raking weight: IPF on the industry x size cells until nothing moves."""
    dims = sorted(margins)
    cells = {}
    for r in rows:
        key = tuple(r[d] for d in dims)
        cells[key] = cells.get(key, 0) + 1
    total = sum(cells.values())
    targets = []
    for i, d in enumerate(dims):
        present = {k[i] for k in cells}
        s = sum(margins[d][c] for c in present)
        targets.append({c: margins[d][c] / s * total for c in present})
    weight = {k: 1.0 for k in cells}
    for _ in range(1000):
        change = 0.0
        for i, target in enumerate(targets):
            have = {}
            for k, n in cells.items():
                have[k[i]] = have.get(k[i], 0.0) + n * weight[k]
            for k in cells:
                factor = target[k[i]] / have[k[i]]
                change = max(change, abs(factor - 1))
                weight[k] *= factor
        if change < 1e-15:
            break
    return [weight[tuple(r[d] for d in dims)] for r in rows]


def wilson(x, n):
    p = min(max(x / n, 0.0), 1.0)
    z2 = Z95 * Z95
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z95 / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def expected_interval(indicator, firms, weights=None):
    """The interval the crate should publish for the share of `indicator` (0/1 per row)."""
    y = np.asarray(indicator, dtype=float)
    groups = np.asarray(firms)
    ones = np.ones((len(y), 1))
    if weights is None:
        w = np.ones(len(y))
        fit = sm.OLS(y, ones).fit(cov_type="cluster", cov_kwds={"groups": groups})
    else:
        w = np.asarray(weights, dtype=float)
        fit = sm.WLS(y, ones, weights=w).fit(cov_type="cluster", cov_kwds={"groups": groups})
    p = float(fit.params[0])
    n_srs = w.sum() ** 2 / (w * w).sum()
    independent = p * (1 - p) / n_srs
    clustered = float(fit.cov_params()[0][0])
    groups_count = len(set(firms))
    if groups_count < 2 or independent <= 0:
        deff = 1.0
    else:
        deff = max(1.0, clustered / independent)
    n_eff = n_srs / deff
    return wilson(p * n_eff, n_eff)


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, label, got, want):
        if abs(got[0] - want[0]) <= TOLERANCE and abs(got[1] - want[1]) <= TOLERANCE:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 20:
                print(f"  {label}: crate {got}, statsmodels {want}")


def check_cells(tally, label, report, rows, weights):
    readiness = report["readiness"]
    cells = [("overall", readiness["overall"], rows, weights)]
    for segment in readiness["segments"]:
        size = segment["key"]["size_band"]
        members = [i for i, r in enumerate(rows) if r["size_band"] == size]
        cells.append((size, segment, [rows[i] for i in members],
                      None if weights is None else [weights[i] for i in members]))
    for name, cell, members, member_weights in cells:
        if cell["suppressed"]:
            continue
        firms = [r["firm"] for r in members]
        for tier in cell["tiers"]:
            indicator = [r["rank"] == tier["rank"] for r in members]
            tally.check(f"{label} {name} {tier['key']}", (tier["ci_low"], tier["ci_high"]),
                        expected_interval(indicator, firms))
        ready = [r["rank"] >= 3 for r in members]
        estimate = cell["ready_to_customise"]
        tally.check(f"{label} {name} ready", (estimate["ci_low"], estimate["ci_high"]),
                    expected_interval(ready, firms))
        if member_weights is not None:
            weighted = cell["weighted"]
            for tier in weighted["tiers"]:
                indicator = [r["rank"] == tier["rank"] for r in members]
                tally.check(f"{label} {name} weighted {tier['key']}",
                            (tier["ci_low"], tier["ci_high"]),
                            expected_interval(indicator, firms, member_weights))
            estimate = weighted["ready_to_customise"]
            tally.check(f"{label} {name} weighted ready",
                        (estimate["ci_low"], estimate["ci_high"]),
                        expected_interval(ready, firms, member_weights))
    for tier in report["blockers"]["tiers"]:
        cell = tier["overall"]
        if cell["suppressed"]:
            continue
        below = [i for i, r in enumerate(rows) if r["rank"] == tier["rank"] - 1]
        members = [rows[i] for i in below]
        firms = [r["firm"] for r in members]
        member_weights = None if weights is None else [weights[i] for i in below]
        for gate in cell["gates"]:
            indicator = [gate["gate"] in r["blockers"] for r in members]
            tally.check(f"{label} blockers {gate['gate']}", (gate["ci_low"], gate["ci_high"]),
                        expected_interval(indicator, firms))
        if member_weights is not None:
            for gate in cell["weighted"]["gates"]:
                indicator = [gate["gate"] in r["blockers"] for r in members]
                tally.check(f"{label} weighted blockers {gate['gate']}",
                            (gate["ci_low"], gate["ci_high"]),
                            expected_interval(indicator, firms, member_weights))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", help="the cluster_intervals executable, already built"
                        " (by default the script builds it with cargo)")
    parser.add_argument("--sets", type=int, default=50)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    example = args.example or build_example()
    rng = random.Random(args.seed)
    tally = Tally()
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(args.sets):
            rows = random_responses(rng)
            margins = random_margins(rng)
            data = Path(scratch) / "responses.csv"
            with data.open("w") as out:
                out.write("id,firm,industry,size_band,tier_rank,blockers\n")
                for r in rows:
                    out.write(f"{r['id']},{r['firm']},{r['industry']},{r['size_band']},"
                              f"{r['rank']},{';'.join(r['blockers'])}\n")
            margins_path = Path(scratch) / "margins.json"
            margins_path.write_text(json.dumps(margins))
            before = tally.passed + tally.failed
            plain = json.loads(subprocess.run([example, str(data)], check=True,
                                              capture_output=True, text=True).stdout)
            check_cells(tally, f"set {number} unweighted", plain, rows, None)
            weighted = json.loads(subprocess.run([example, str(data), str(margins_path)],
                                                 check=True, capture_output=True,
                                                 text=True).stdout)
            check_cells(tally, f"set {number} weighted", weighted, rows, rake(rows, margins))
            print(f"set {number}: {len(rows)} responses of {len({r['firm'] for r in rows})} "
                  f"firms, {tally.passed + tally.failed - before} intervals")
    print(f"{tally.passed} passed, {tally.failed} failed")
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
