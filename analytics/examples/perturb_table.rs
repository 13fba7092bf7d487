//! Perturbed frequency tables of microdata, for checking the cell key method against the ONS
//! `cell-key-perturbation` package (`analytics/check/ons_crosscheck.py` runs it).
//!
//! ```text
//! perturb_table <table name> <min cell | implied> <microdata.csv>
//! ```
//!
//! The microdata is plain CSV without quoting: one row per firm, a `firm` column (unique), a
//! `record_key` column (0–255) and any number of attribute columns. For every breakdown by
//! one, two or three attributes, and every combination of the values each attribute takes in
//! the data (empty cells too, as the package counts them), it writes to standard output
//!
//! ```text
//! breakdown,<attribute>...,count,cell_key,perturbed,published
//! ```
//!
//! where `breakdown` joins the attribute names with `+`, the attributes outside the breakdown
//! are empty, and `published` is empty when the cell is below the threshold.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::error::Error;
use std::io::{BufWriter, Write};
use std::sync::Arc;

use readiness_analytics::reports::disclosure::{DisclosurePolicy, PerturbationTable, cell_key};

struct Microdata {
    attributes: Vec<String>,
    /// Per firm: its record key and its value of each attribute.
    firms: Vec<(u8, Vec<String>)>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [table, min_cell, path] = args.as_slice() else {
        return Err(
            "usage: perturb_table <table name> <min cell | implied> <microdata.csv>".into(),
        );
    };
    let table = Arc::new(PerturbationTable::shipped(table)?);
    let min_cell = match min_cell.as_str() {
        "implied" => None,
        value => Some(value.parse()?),
    };
    let policy = DisclosurePolicy::new(table, min_cell);
    let data = read(&std::fs::read_to_string(path)?)?;

    let mut out = BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "breakdown,{},count,cell_key,perturbed,published",
        data.attributes.join(",")
    )?;
    for breakdown in breakdowns(data.attributes.len()) {
        write_breakdown(&mut out, &data, &breakdown, &policy)?;
    }
    out.flush()?;
    Ok(())
}

fn read(text: &str) -> Result<Microdata, Box<dyn Error>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("the microdata is empty")?
        .split(',')
        .collect();
    let position = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("the microdata has no `{name}` column"))
    };
    let (firm, record_key) = (position("firm")?, position("record_key")?);
    let attribute_columns: Vec<usize> = (0..header.len())
        .filter(|c| *c != firm && *c != record_key)
        .collect();
    let mut seen = HashSet::new();
    let mut firms = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            return Err(format!("`{line}` does not have {} fields", header.len()).into());
        }
        if !seen.insert(fields[firm]) {
            return Err(format!("firm {} has two rows", fields[firm]).into());
        }
        let key: u8 = fields[record_key].parse()?;
        let values = attribute_columns
            .iter()
            .map(|c| fields[*c].to_owned())
            .collect();
        firms.push((key, values));
    }
    Ok(Microdata {
        attributes: attribute_columns
            .iter()
            .map(|c| header[*c].to_owned())
            .collect(),
        firms,
    })
}

/// Every set of one, two or three attribute indices, smallest first.
fn breakdowns(attributes: usize) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    for mask in 1u32..(1 << attributes) {
        if mask.count_ones() <= 3 {
            all.push((0..attributes).filter(|a| mask & (1 << a) != 0).collect());
        }
    }
    all.sort_by_key(|b: &Vec<usize>| (b.len(), b.clone()));
    all
}

fn write_breakdown(
    out: &mut impl Write,
    data: &Microdata,
    breakdown: &[usize],
    policy: &DisclosurePolicy,
) -> std::io::Result<()> {
    // Each cell's firms' record keys.
    let mut cells: BTreeMap<Vec<&str>, Vec<u8>> = BTreeMap::new();
    for (key, values) in &data.firms {
        let cell = breakdown.iter().map(|a| values[*a].as_str()).collect();
        cells.entry(cell).or_default().push(*key);
    }
    let levels: Vec<BTreeSet<&str>> = breakdown
        .iter()
        .map(|a| data.firms.iter().map(|(_, v)| v[*a].as_str()).collect())
        .collect();
    let name: Vec<&str> = breakdown
        .iter()
        .map(|a| data.attributes[*a].as_str())
        .collect();
    for cell in cartesian(&levels) {
        let keys = cells.get(&cell).map(Vec::as_slice).unwrap_or_default();
        let count = keys.len() as u64;
        let key = cell_key(keys.iter().copied());
        let mut columns = vec![String::new(); data.attributes.len()];
        for (attribute, value) in breakdown.iter().zip(&cell) {
            columns[*attribute] = (*value).to_owned();
        }
        let published = policy
            .publish(count, key)
            .map_or(String::new(), |p| p.to_string());
        writeln!(
            out,
            "{},{},{count},{key},{},{published}",
            name.join("+"),
            columns.join(","),
            policy.perturbed(count, key),
        )?;
    }
    Ok(())
}

/// Every combination of one value of each level set.
fn cartesian<'a>(levels: &[BTreeSet<&'a str>]) -> Vec<Vec<&'a str>> {
    levels.iter().fold(vec![Vec::new()], |combinations, level| {
        combinations
            .iter()
            .flat_map(|prefix| {
                level.iter().map(move |value| {
                    let mut next = prefix.clone();
                    next.push(*value);
                    next
                })
            })
            .collect()
    })
}
