"""Checks the change report's paired statistics against statsmodels and an independent
implementation.

For 200 random paired 2x2 tables (both, lost, gained, neither), including tables with zero
cells, tables without discordant pairs, all-discordant tables and a few large ones, the
`paired_tests` example computes the exact McNemar p-value and mid-p and Newcombe's hybrid
score interval for the difference of paired proportions (Newcombe 1998, method 10). This
script requires, to 1e-9:

- the p-value to equal statsmodels' `mcnemar(table, exact=True).pvalue`;
- the mid-p to equal 2 * (P(X <= k) - P(X = k) / 2), at most 1, with X ~ Binomial(lost +
  gained, 1/2) and k = min(lost, gained), from scipy.stats.binom;
- the interval to equal the one written out below from the paper's formulas: Wilson score
  intervals of the two marginal shares (no continuity correction), and the correlation
  phi* = C / sqrt(product of the margins) with C = ad - bc - n/2 when ad - bc > n/2, 0 when
  0 <= ad - bc <= n/2 and ad - bc when negative (0 when a margin is empty).

It prints "N passed, M failed" and exits non-zero on any difference. Run from the repository
root, in the virtual environment of the clustered-interval check:

    /var/tmp/readiness-est-venv/bin/python analytics/check/change_crosscheck.py

The script builds the example with cargo (honouring CARGO_TARGET_DIR) unless --example names
its executable; --tables and --seed choose the tables (200, 24).
"""

import argparse
import json
import math
import random
import subprocess
import sys
from pathlib import Path

from scipy.stats import binom, norm
from statsmodels.stats.contingency_tables import mcnemar

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-9
Z = norm.ppf(0.975)


def build_example():
    messages = subprocess.run(
        ["cargo", "build", "--quiet", "-p", "readiness-analytics", "--example",
         "paired_tests", "--message-format", "json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in messages.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") \
                and message["target"]["name"] == "paired_tests":
            return message["executable"]
    sys.exit("cargo built no paired_tests executable")


def random_tables(rng, count):
    """Hand-picked edge cases first, then random tables of several sizes with zero cells."""
    tables = [
        (8, 5, 4, 9), (0, 0, 0, 1), (3, 0, 0, 4), (0, 7, 0, 0), (0, 0, 7, 0), (0, 4, 6, 0),
        (0, 1, 1, 0), (10, 0, 5, 0), (0, 5, 0, 10), (25, 0, 0, 0), (0, 0, 0, 25),
        (400, 1200, 1350, 900), (0, 2500, 2600, 0),
    ]
    while len(tables) < count:
        scale = rng.choice([5, 20, 60, 300])
        cells = [rng.randrange(0, scale) for _ in range(4)]
        kind = rng.random()
        if kind < 0.2:
            cells[rng.randrange(4)] = 0
        elif kind < 0.3:
            cells[0] = cells[3] = 0  # all discordant
        elif kind < 0.35:
            cells[1] = cells[2] = 0  # none discordant
        elif kind < 0.45:
            for index in rng.sample(range(4), 2):
                cells[index] = 0
        if sum(cells) == 0:
            cells[rng.randrange(4)] = 1
        tables.append(tuple(cells))
    return tables[:count]


def wilson(x, n):
    p = x / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_method_10(a, b, c, d):
    """Follow-up minus baseline: baseline share (a + b) / n, follow-up share (a + c) / n."""
    n = a + b + c + d
    if n == 0:
        return None
    followup, baseline = (a + c) / n, (a + b) / n
    l1, u1 = wilson(a + c, n)
    l2, u2 = wilson(a + b, n)
    margins = (a + c) * (b + d) * (a + b) * (c + d)
    phi = 0.0
    if margins > 0:
        cross = a * d - b * c
        corrected = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
        phi = corrected / math.sqrt(margins)
    diff = followup - baseline
    low = diff - math.sqrt(max(0.0, (followup - l1) ** 2
                               - 2 * phi * (followup - l1) * (u2 - baseline)
                               + (u2 - baseline) ** 2))
    high = diff + math.sqrt(max(0.0, (u1 - followup) ** 2
                                - 2 * phi * (u1 - followup) * (baseline - l2)
                                + (baseline - l2) ** 2))
    return diff, max(-1.0, low), min(1.0, high)


def mid_p(b, c):
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    return min(1.0, 2 * (binom.cdf(k, n, 0.5) - binom.pmf(k, n, 0.5) / 2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", help="the paired_tests executable, already built"
                        " (by default the script builds it with cargo)")
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--seed", type=int, default=24)
    args = parser.parse_args()
    example = args.example or build_example()
    tables = random_tables(random.Random(args.seed), args.tables)
    lines = "".join(" ".join(str(x) for x in t) + "\n" for t in tables)
    output = subprocess.run([example], input=lines, check=True, capture_output=True,
                            text=True).stdout.splitlines()
    if len(output) != len(tables):
        sys.exit(f"expected {len(tables)} results, got {len(output)}")
    passed = failed = 0

    def check(label, got, expected):
        nonlocal passed, failed
        if got is None or expected is None:
            ok = got is None and expected is None
        else:
            ok = abs(got - expected) <= TOLERANCE
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {label}: crate {got!r}, reference {expected!r}")

    for table, line in zip(tables, output):
        result = json.loads(line)
        a, b, c, d = table
        if tuple(result["table"]) != table:
            sys.exit(f"result for {result['table']} where {table} was sent")
        statsmodels_p = mcnemar([[a, b], [c, d]], exact=True).pvalue
        check(f"{table} McNemar p", result["mcnemar_p"], min(1.0, statsmodels_p))
        check(f"{table} mid-p", result["mcnemar_mid_p"], mid_p(b, c))
        interval = newcombe_method_10(a, b, c, d)
        for index, name in enumerate(["difference", "ci_low", "ci_high"]):
            check(f"{table} {name}", result[name], None if interval is None else interval[index])
    print(f"{len(tables)} tables: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
