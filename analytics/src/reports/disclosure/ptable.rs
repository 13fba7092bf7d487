//! Perturbation tables, in the representation of the UK ONS `cell-key-perturbation` package
//! so that the package can check our published counts independently.
//!
//! A table is CSV with the columns `pcv`, `ckey` and `pvalue`: for every perturbation cell
//! value `pcv` from 1 to 750 and every cell key from 0 to 255, the value added to the count.
//! A count of 0 is never perturbed. A count above 750 reuses rows 501–750: it is looked up
//! under `pcv = (count - 1) % 250 + 501`, the row with the same remainder modulo 250.
//!
//! # Shipped tables
//!
//! **`ptable_10_5_rule`**, the ONS table. It ignores the cell key: counts 1–9 become 0 and
//! larger counts are rounded to the nearest multiple of 5 (a remainder of 1 or 2 down, 3 or 4
//! up). The perturbation of a count is fixed, so its variance is 0, but it is biased: −1…−9
//! for counts 1–9 (the maximum deviation, 9, is at count 9) and 0, −1, −2, +2, +1 for counts
//! from 10 with remainder 0–4 modulo 5 (maximum deviation 2, mean squared deviation 2 on
//! average). It never publishes 1–9; its smallest publishable count is 10.
//!
//! **`ptable_3_2_unbiased`**, ours, for surveys of a few hundred firms whose cells are mostly
//! well under 10 (where the ONS table would publish almost nothing). No count moves by more
//! than 2, and it never publishes 1 or 2: its smallest publishable count is 3. Keys out of 256:
//!
//! | count | published (keys of 256)                        | mean noise | variance of noise |
//! |-------|------------------------------------------------|------------|-------------------|
//! | 0     | 0                                              | 0          | 0                 |
//! | 1     | 0 (171), 3 (85)                                | −1/256     | 130815/65536 ≈ 1.996 |
//! | 2     | 0 (86), 3 (168), 4 (2)                         | 0          | 65/32 ≈ 2.031     |
//! | 3     | 3 (256)                                        | 0          | 0                 |
//! | 4     | 3 (96), 4 (80), 5 (64), 6 (16)                 | 0          | 7/8               |
//! | c ≥ 5 | c−2 (16), c−1 (64), c (96), c+1 (64), c+2 (16) | 0          | 1                 |
//!
//! From 5 on the noise is Binomial(4, ½) − 2. Count 1 cannot keep its mean exactly in 256ths
//! of 0 and 3; count 3 has no move within ±2 that keeps its mean and avoids 1 and 2, so it is
//! published as it is (a published 3 still comes from a true 1, 2, 3, 4 or 5).
//!
//! Each row spreads its pvalues over the keys in its own random order (seeded, so the file is
//! reproducible). With one order for all rows, a firm whose record key is 0 or small would
//! mostly leave a cell's noise as it was when it joins the cell, and the difference of the
//! two published counts would show it exactly; with independent orders the noise of counts
//! `c` and `c + 1` is independent whatever key the firm adds.

/// Cell keys (and record keys) run from 0 to `KEY_RANGE - 1`.
pub const KEY_RANGE: usize = 256;
/// The largest `pcv` a table holds.
pub const MAX_PCV: u64 = 750;
/// Counts above [`MAX_PCV`] reuse this many rows, the last ones.
const REUSED_ROWS: u64 = 250;

/// The tables shipped with the crate, by name.
const SHIPPED: [(&str, &str); 2] = [
    (
        "ptable_10_5_rule",
        include_str!("../../../ptables/ptable_10_5_rule.csv"),
    ),
    (
        "ptable_3_2_unbiased",
        include_str!("../../../ptables/ptable_3_2_unbiased.csv"),
    ),
];

/// A perturbation table: the noise added to a count, by count and cell key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerturbationTable {
    name: String,
    /// `pvalue` of (`pcv`, `ckey`) at `pcv * KEY_RANGE + ckey`, for `pcv` 0 (all 0) to 750.
    pvalues: Vec<i16>,
    smallest_publishable: u64,
    /// [`PerturbationTable::unperturbed`]: means too are published exactly.
    exact: bool,
}

/// Why a table cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PtableError {
    #[error("no perturbation table is called `{0}`; the shipped ones are {list}", list = shipped_list())]
    Unknown(String),
    #[error("perturbation table `{table}`, line {line}: {problem}")]
    Line {
        table: String,
        line: usize,
        problem: String,
    },
    #[error("perturbation table `{table}`: {problem}")]
    Table { table: String, problem: String },
}

fn shipped_list() -> String {
    SHIPPED.map(|(name, _)| format!("`{name}`")).join(", ")
}

/// The row a count is perturbed by: the count itself up to 750, above it the row of 501–750
/// with the same remainder modulo 250.
pub fn pcv(count: u64) -> u64 {
    if count <= MAX_PCV {
        count
    } else {
        (count - 1) % REUSED_ROWS + (MAX_PCV - REUSED_ROWS + 1)
    }
}

/// The published value of a count whose cell key is `cell_key`.
pub fn perturb(table: &PerturbationTable, count: u64, cell_key: u8) -> u64 {
    count.saturating_add_signed(i64::from(table.pvalue(pcv(count), cell_key)))
}

impl PerturbationTable {
    /// Names of the tables shipped with the crate.
    pub fn shipped_names() -> impl Iterator<Item = &'static str> {
        SHIPPED.into_iter().map(|(name, _)| name)
    }

    /// A shipped table, parsed and validated (parse it once, at start-up).
    pub fn shipped(name: &str) -> Result<Self, PtableError> {
        let (name, csv) = SHIPPED
            .into_iter()
            .find(|(shipped, _)| *shipped == name)
            .ok_or_else(|| PtableError::Unknown(name.to_owned()))?;
        Self::from_csv(name, csv)
    }

    /// A table that perturbs nothing and publishes every count from 1, named `unperturbed`;
    /// with it means are published exactly too. For tests and checks that need exact figures
    /// only: it gives no protection, and a publisher cannot choose it by name (it is not
    /// among [`Self::shipped_names`]).
    pub fn unperturbed() -> Self {
        let rows = usize::try_from(MAX_PCV).unwrap_or(usize::MAX) + 1;
        Self {
            name: "unperturbed".to_owned(),
            pvalues: vec![0; rows * KEY_RANGE],
            smallest_publishable: 1,
            exact: true,
        }
    }

    /// Parses and validates a table in the ONS representation: a header naming `pcv`, `ckey`
    /// and `pvalue` (in any order, quoted or not), then one row per `pcv` 1–750 and `ckey`
    /// 0–255. Rows for `pcv` 0 may be given but must not perturb.
    pub fn from_csv(name: &str, csv: &str) -> Result<Self, PtableError> {
        let line_error = |line: usize, problem: String| PtableError::Line {
            table: name.to_owned(),
            line,
            problem,
        };
        let mut lines = csv
            .lines()
            .enumerate()
            .map(|(index, text)| (index + 1, text));
        let (_, header) = lines.next().ok_or_else(|| PtableError::Table {
            table: name.to_owned(),
            problem: "it is empty".to_owned(),
        })?;
        let columns = Columns::parse(header).ok_or_else(|| {
            line_error(
                1,
                format!("the header must name pcv, ckey and pvalue, not `{header}`"),
            )
        })?;
        let rows = usize::try_from(MAX_PCV).unwrap_or(usize::MAX) + 1;
        let mut pvalues = vec![0i16; rows * KEY_RANGE];
        let mut seen = vec![false; rows * KEY_RANGE];
        for (line, text) in lines {
            if text.trim().is_empty() {
                continue;
            }
            let (pcv, ckey, pvalue) = columns
                .values(text)
                .map_err(|problem| line_error(line, problem))?;
            let index = usize::try_from(pcv)
                .ok()
                .filter(|_| pcv <= MAX_PCV)
                .map(|row| row * KEY_RANGE + usize::from(ckey))
                .ok_or_else(|| {
                    line_error(
                        line,
                        format!("pcv {pcv} is above {MAX_PCV}: larger counts reuse rows 501–750"),
                    )
                })?;
            if pcv == 0 && pvalue != 0 {
                return Err(line_error(line, "a count of 0 cannot be perturbed".into()));
            }
            if i64::try_from(pcv).unwrap_or(i64::MAX) + i64::from(pvalue) < 0 {
                return Err(line_error(
                    line,
                    format!("pvalue {pvalue} would make the count {pcv} negative"),
                ));
            }
            if std::mem::replace(&mut seen[index], true) {
                return Err(line_error(
                    line,
                    format!("pcv {pcv}, ckey {ckey} is given twice"),
                ));
            }
            pvalues[index] = pvalue;
        }
        for pcv in 1..rows {
            let row = &seen[pcv * KEY_RANGE..(pcv + 1) * KEY_RANGE];
            if let Some(first) = row.iter().position(|seen| !seen) {
                let missing = row.iter().filter(|seen| !**seen).count();
                return Err(PtableError::Table {
                    table: name.to_owned(),
                    problem: format!(
                        "pcv {pcv} lacks {missing} of the {KEY_RANGE} cell keys, ckey {first} first"
                    ),
                });
            }
        }
        let smallest_publishable = smallest_publishable(&pvalues);
        Ok(Self {
            name: name.to_owned(),
            pvalues,
            smallest_publishable,
            exact: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is [`PerturbationTable::unperturbed`].
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// The smallest count other than 0 the table can publish: the threshold it implies.
    pub fn smallest_publishable(&self) -> u64 {
        self.smallest_publishable
    }

    fn pvalue(&self, pcv: u64, cell_key: u8) -> i16 {
        usize::try_from(pcv)
            .ok()
            .and_then(|row| self.pvalues.get(row * KEY_RANGE + usize::from(cell_key)))
            .copied()
            .unwrap_or(0)
    }
}

/// Where the three columns are in a row.
struct Columns {
    pcv: usize,
    ckey: usize,
    pvalue: usize,
}

impl Columns {
    fn parse(header: &str) -> Option<Self> {
        let names: Vec<&str> = header.split(',').map(unquote).collect();
        if names.len() != 3 {
            return None;
        }
        let position = |name: &str| names.iter().position(|n| *n == name);
        Some(Self {
            pcv: position("pcv")?,
            ckey: position("ckey")?,
            pvalue: position("pvalue")?,
        })
    }

    fn values(&self, line: &str) -> Result<(u64, u8, i16), String> {
        let fields: Vec<&str> = line.split(',').map(unquote).collect();
        if fields.len() != 3 {
            return Err(format!("expected 3 fields, found {}", fields.len()));
        }
        let pcv = fields[self.pcv]
            .parse::<u64>()
            .map_err(|_| format!("pcv `{}` is not a count", fields[self.pcv]))?;
        let ckey = fields[self.ckey]
            .parse::<u8>()
            .map_err(|_| format!("ckey `{}` is not in 0–255", fields[self.ckey]))?;
        let pvalue = fields[self.pvalue]
            .parse::<i16>()
            .map_err(|_| format!("pvalue `{}` is not a small integer", fields[self.pvalue]))?;
        Ok((pcv, ckey, pvalue))
    }
}

fn unquote(field: &str) -> &str {
    let field = field.trim();
    field
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(field)
}

/// The smallest positive count a table publishes: over rows 1–750 as they stand, and over
/// rows 501–750 for the smallest count above 750 that reuses each (always larger, as no row
/// takes its count below 0).
fn smallest_publishable(pvalues: &[i16]) -> u64 {
    let mut smallest = u64::MAX;
    for (pcv, row) in pvalues.chunks(KEY_RANGE).enumerate().skip(1) {
        let pcv = u64::try_from(pcv).unwrap_or(u64::MAX);
        for pvalue in row {
            let published = pcv.saturating_add_signed(i64::from(*pvalue));
            if published > 0 {
                smallest = smallest.min(published);
            }
        }
        if pcv > MAX_PCV - REUSED_ROWS {
            let reused = pcv + REUSED_ROWS;
            for pvalue in row {
                smallest = smallest.min(reused.saturating_add_signed(i64::from(*pvalue)));
            }
        }
    }
    smallest
}
