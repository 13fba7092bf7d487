"""Writes the perturbation tables the analytics crate ships, in analytics/ptables/.

- ptable_10_5_rule.csv: the ONS table, exported from the `cell-key-perturbation` package
  (after checking that the CSV it installs equals its own generator's output).
- ptable_3_2_unbiased.csv: our lower-noise table for surveys of a few hundred firms, built
  from DESIGN below.

Both use the package's representation: one row per (pcv, ckey) for pcv 1-750 and ckey 0-255,
the columns pcv, ckey, pvalue; counts above 750 reuse rows 501-750.

Run from the repository root (a virtual environment keeps the pinned packages apart):

    python3 -m venv /var/tmp/ckp-venv
    /var/tmp/ckp-venv/bin/pip install -r analytics/check/requirements.txt
    /var/tmp/ckp-venv/bin/python analytics/check/make_ptables.py

The script prints each table's mean and variance of the perturbation per count and exits
non-zero when the lower-noise design breaks one of its stated properties.
"""

import csv
import importlib.metadata
import sys
from fractions import Fraction
from pathlib import Path

KEYS = 256
MAX_PCV = 750
OUT = Path(__file__).resolve().parent.parent / "ptables"

# The lower-noise table: for each count, how many of the 256 cell keys get each pvalue.
# Counts 1 and 2 go to 0 or to 3 and more (never 1 or 2) with the mean kept at the count
# (count 1 cannot be exact in 256ths: it is 1/256 low); count 3 has no unbiased move within
# +-2 that avoids 1 and 2, so it stays; count 4 cannot go down 2; from 5 on the noise is
# Binomial(4, 1/2) - 2: mean 0, variance 1, at most 2 either way.
# Each row lays its pvalues over the keys in its own random order (SplitMix64 from SEED and
# the count, then Fisher-Yates): with one order for every row, a firm whose record key is 0
# or small would leave the noise of a cell unchanged when it joins it, and the difference of
# two published counts would show it exactly.
SEED = 0x3232_756E_6269_6173
GENERAL = {-2: 16, -1: 64, 0: 96, 1: 64, 2: 16}
DESIGN = {
    1: {-1: 171, 2: 85},
    2: {-2: 86, 1: 168, 2: 2},
    3: {0: 256},
    4: {-1: 96, 0: 80, 1: 64, 2: 16},
}
MAX_DEVIATION = 2


MASK = (1 << 64) - 1


def splitmix64(state):
    """The next state and output of SplitMix64."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def low_noise_row(count):
    """The pvalue of each cell key for one count."""
    weights = DESIGN.get(count, GENERAL)
    row = []
    for pvalue in sorted(weights):
        row.extend([pvalue] * weights[pvalue])
    state = (SEED ^ count) & MASK
    for i in range(len(row) - 1, 0, -1):
        state, draw = splitmix64(state)
        j = draw % (i + 1)
        row[i], row[j] = row[j], row[i]
    return row


def moments(row, count):
    """Mean and variance of the perturbation of one count, as exact fractions."""
    mean = Fraction(sum(row), len(row))
    variance = Fraction(sum(p * p for p in row), len(row)) - mean * mean
    return mean, variance


def check_low_noise():
    """The stated properties; returns a list of problems."""
    problems = []
    for count in range(1, MAX_PCV + 1):
        row = low_noise_row(count)
        if len(row) != KEYS:
            problems.append(f"count {count}: {len(row)} keys")
        published = {count + p for p in row}
        if published & {1, 2}:
            problems.append(f"count {count} can be published as 1 or 2")
        if min(published) < 0:
            problems.append(f"count {count} can become negative")
        if max(abs(p) for p in row) > MAX_DEVIATION:
            problems.append(f"count {count} moves more than {MAX_DEVIATION}")
        mean, variance = moments(row, count)
        if count != 1 and mean != 0:
            problems.append(f"count {count} has mean perturbation {mean}")
        if variance > 1 and count > 2:
            problems.append(f"count {count} has variance {variance}")
    return problems


def write(path, rows):
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["pcv", "ckey", "pvalue"])
        writer.writerows(rows)


def ons_10_5_rows():
    """The package's installed ptable_10_5_rule.csv, checked against its generator."""
    from cell_key_perturbation.utils.generate_test_ptable import generate_ptable_10_5_rule

    files = importlib.metadata.files("cell-key-perturbation") or []
    installed = [f for f in files if f.name == "ptable_10_5_rule.csv"]
    if len(installed) != 1:
        sys.exit("the package does not install exactly one ptable_10_5_rule.csv")
    with open(installed[0].locate(), newline="") as source:
        rows = [(int(r["pcv"]), int(r["ckey"]), int(r["pvalue"])) for r in csv.DictReader(source)]
    generated = [
        tuple(int(v) for v in r) for r in generate_ptable_10_5_rule().itertuples(index=False)
    ]
    if rows != generated:
        sys.exit("the installed ptable_10_5_rule.csv differs from generate_ptable_10_5_rule()")
    return rows


def summarise(name, rows):
    """Prints counts 1-12 one by one, then the range of the rest."""
    by_pcv = {}
    for pcv, _, pvalue in rows:
        by_pcv.setdefault(pcv, []).append(pvalue)
    print(f"{name}: count, mean, variance, max |pvalue|, published values")
    rest = []
    for pcv in range(1, MAX_PCV + 1):
        row = by_pcv[pcv]
        mean, variance = moments(row, pcv)
        deviation = max(abs(p) for p in row)
        if pcv <= 12:
            shown = sorted({pcv + p for p in row})
            print(f"  {pcv:5}  {str(mean):>7}  {str(variance):>12}  {deviation}  {shown}")
        else:
            rest.append((mean, variance, deviation))
    means = sorted({r[0] for r in rest})
    print(
        f"  13-{MAX_PCV}  mean {means[0]} to {means[-1]}, variance at most"
        f" {max(r[1] for r in rest)}, max |pvalue| {max(r[2] for r in rest)}"
    )


def main():
    problems = check_low_noise()
    if problems:
        sys.exit("\n".join(problems))
    low_noise = [
        (count, key, pvalue)
        for count in range(1, MAX_PCV + 1)
        for key, pvalue in enumerate(low_noise_row(count))
    ]
    write(OUT / "ptable_3_2_unbiased.csv", low_noise)
    summarise("ptable_3_2_unbiased", low_noise)
    ons = ons_10_5_rows()
    write(OUT / "ptable_10_5_rule.csv", ons)
    summarise("ptable_10_5_rule", ons)


if __name__ == "__main__":
    main()
