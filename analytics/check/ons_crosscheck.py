"""Checks the crate's cell key perturbation against the UK ONS package `cell-key-perturbation`.

For random microdata (firms with a random record key 0-255 and an industry, size band and
country) and each perturbation table the crate ships, every cell of every one-, two- and
three-way breakdown must come out of the crate (the `perturb_table` example) exactly as
`create_perturbed_table` makes it from the same data, keys and table: the count, the cell key,
the perturbed count (package threshold 0) and the published count under a threshold (the one
the table implies, and 5), empty cells included. It also checks that the crate's copy of
`ptable_10_5_rule` is the table the package installs.

Run from the repository root (a virtual environment keeps the pinned packages apart):

    python3 -m venv /var/tmp/ckp-venv
    /var/tmp/ckp-venv/bin/pip install -r analytics/check/requirements.txt
    /var/tmp/ckp-venv/bin/python analytics/check/ons_crosscheck.py

The script builds the example with cargo (honouring CARGO_TARGET_DIR) unless --example names
its executable; --firms sets the sizes of the random data sets (200,400,1000,3000,8000) and
--seed their seed (20260).

It prints one line per table and threshold, then "N passed, M failed" over all cells, and
exits non-zero on any difference. Missing attribute values are not generated: the package
counts them but gives their cells the key 0.
"""

import argparse
import contextlib
import csv
import importlib.metadata
import io
import json
import random
import subprocess
import sys
import tempfile
from itertools import combinations
from pathlib import Path

import pandas as pd
from cell_key_perturbation.create_perturbed_table import create_perturbed_table

ROOT = Path(__file__).resolve().parents[2]
PTABLES = ROOT / "analytics" / "ptables"
TABLES = ["ptable_10_5_rule", "ptable_3_2_unbiased"]
EXTRA_THRESHOLD = 5
ATTRIBUTES = {
    "industry": (
        ["retail", "manufacturing", "software", "consulting", "health", "logistics",
         "hospitality", "finance", "construction", "education"],
        [30, 18, 14, 10, 8, 7, 5, 4, 3, 1],
    ),
    "size_band": (["micro", "small", "medium", "large"], [60, 25, 10, 5]),
    "country": (["DE", "FR", "IT", "ES", "NL", "AT"], [45, 20, 15, 10, 6, 4]),
}


def microdata(firms, rng):
    rows = []
    for firm in range(firms):
        row = {"firm": f"f{firm}", "record_key": rng.randrange(256)}
        for name, (values, weights) in ATTRIBUTES.items():
            row[name] = rng.choices(values, weights)[0]
        rows.append(row)
    return pd.DataFrame(rows)


def build_example():
    """Builds the example with cargo and returns the path of its executable."""
    messages = subprocess.run(
        ["cargo", "build", "--quiet", "-p", "readiness-analytics", "--example", "perturb_table",
         "--message-format", "json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in messages.splitlines():
        message = json.loads(line)
        if message.get("target", {}).get("name") == "perturb_table" and message.get("executable"):
            return message["executable"]
    sys.exit("cargo built no perturb_table executable")


def crate_cells(example, table, threshold, path):
    """The example's output: (breakdown, cell) -> (count, cell key, perturbed, published)."""
    output = subprocess.run(
        [example, table, str(threshold), str(path)], check=True, capture_output=True, text=True
    ).stdout
    cells = {}
    for row in csv.DictReader(io.StringIO(output)):
        breakdown = tuple(row["breakdown"].split("+"))
        cell = tuple(row[name] for name in breakdown)
        published = int(row["published"]) if row["published"] else None
        cells[breakdown, cell] = (int(row["count"]), int(row["cell_key"]),
                                  int(row["perturbed"]), published)
    return cells


def package_table(data, ptable, breakdown, threshold):
    """create_perturbed_table's cells: cell -> (count, cell key, published or None)."""
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its validation notes
        table = create_perturbed_table(data=data, ptable=ptable, geog=[],
                                       tab_vars=list(breakdown), record_key="record_key",
                                       use_existing_ons_id=False, threshold=threshold)
    cells = {}
    for row in table.itertuples(index=False):
        row = row._asdict()
        count = row["count"]
        cells[tuple(str(row[name]) for name in breakdown)] = (
            int(row["pre_sdc_count"]), int(row["ckey"]),
            None if pd.isna(count) else int(count))
    return cells


def implied_threshold(ptable):
    """The smallest positive count the table publishes (rows above 500 reused by larger
    counts only publish more)."""
    published = ptable["pcv"] + ptable["pvalue"]
    return int(published[published > 0].min())


def check_ons_copy():
    files = importlib.metadata.files("cell-key-perturbation") or []
    installed = [f.locate() for f in files if f.name == "ptable_10_5_rule.csv"]
    ours = pd.read_csv(PTABLES / "ptable_10_5_rule.csv")
    theirs = pd.read_csv(installed[0]) if len(installed) == 1 else None
    same = theirs is not None and ours.equals(theirs)
    print(f"crate's ptable_10_5_rule.csv {'equals' if same else 'DIFFERS FROM'} the package's")
    return same


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", default="200,400,1000,3000,8000",
                        help="comma-separated sizes of the random microdata sets")
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--example", help="the perturb_table executable, already built"
                        " (by default the script builds it with cargo)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.firms.split(",")]
    rng = random.Random(args.seed)
    example = args.example or build_example()
    breakdowns = [b for k in (1, 2, 3) for b in combinations(ATTRIBUTES, k)]
    passed = failed = 0
    ok = check_ons_copy()
    with tempfile.TemporaryDirectory() as scratch:
        datasets = []
        for index, firms in enumerate(sizes):
            data = microdata(firms, rng)
            path = Path(scratch) / f"microdata_{index}.csv"
            data.to_csv(path, index=False)
            datasets.append((data, path))
        for name in TABLES:
            ptable = pd.read_csv(PTABLES / f"{name}.csv")
            implied = implied_threshold(ptable)
            for threshold, argument in ((implied, "implied"), (EXTRA_THRESHOLD, EXTRA_THRESHOLD)):
                cells = largest = differences = 0
                for data, path in datasets:
                    crate = crate_cells(example, name, argument, path)
                    seen = set()
                    for breakdown in breakdowns:
                        perturbed = package_table(data, ptable, breakdown, 0)
                        published = package_table(data, ptable, breakdown, threshold)
                        for cell, (count, key, value) in perturbed.items():
                            seen.add((breakdown, cell))
                            expected = (count, key, value, published[cell][2])
                            got = crate.get((breakdown, cell))
                            cells += 1
                            largest = max(largest, count)
                            if got == expected:
                                passed += 1
                                continue
                            failed += 1
                            differences += 1
                            if differences <= 10:
                                print(f"  {name} {'+'.join(breakdown)} {cell}: crate {got},"
                                      f" package {expected} (count, key, perturbed, published)")
                    for extra in set(crate) - seen:
                        failed += 1
                        differences += 1
                        print(f"  {name}: the crate has a cell the package lacks: {extra}")
                print(f"{name}, threshold {threshold}: {cells} cells of {len(datasets)} data sets"
                      f" (largest count {largest}), {differences} differences")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if ok and failed == 0 else 1)


if __name__ == "__main__":
    main()
