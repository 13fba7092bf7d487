//! `readiness import`: reading an export (CSV or NDJSON) back into the database.
//!
//! Each row is checked exactly as a submission is (firm profile, answers against its
//! instrument version, `submitted_at`) and scored by the rubric again; the tier, blockers and
//! scores in the file are derived columns and are not read. The exported `response_id` becomes
//! the stored id, so importing a file twice stores nothing twice. A row that fails goes to
//! the rejects file with its line number and the reasons. Rows of a pseudonymised export are
//! refused (their response ids are pseudonyms, see `exports::pseudonym`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::exports::layout::{ANSWER_PREFIX, LEADING, TRAILING};
use super::exports::pseudonym::is_response_pseudonym;
use super::exports::spreadsheet::{neutralise, restore};
use crate::domain::Submission;
use crate::domain::submission::to_stored_precision;
use crate::domain::tombstone::TombstoneKey;
use crate::services::catalog::{Catalog, Entry};
use crate::services::submissions::{Source, new_response};
use crate::store::responses::{NewResponse, ResponseStore, Stored};
use crate::store::surveys::SurveyQuery;
use crate::store::tombstones::TombstoneStore;

/// Why a row of a pseudonymised export is refused: its firms would come back as new firms
/// under their pseudonyms, beside the real ones, and be counted twice.
pub const PSEUDONYMISED: &str = "`response_id` is a pseudonym: a pseudonymised export cannot \
                                 be imported (its firms would be stored again under their \
                                 pseudonyms); import an export made without `pseudonymise`";

/// Valid rows stored per transaction.
pub const IMPORT_BATCH: usize = 1_000;

/// What an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Ndjson,
}

impl ImportFormat {
    /// The format a file name's extension names (`.jsonl` is NDJSON too).
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }
}

/// What happened to the rows of a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub read: u64,
    pub stored: u64,
    /// Identical to a response already stored (or to an earlier row of the file).
    pub already_present: u64,
    pub rejected: u64,
}

/// A row of the file: where it starts and its cells by column (`null` for an empty cell).
struct Record {
    line: u64,
    cells: Map<String, Value>,
}

/// A row that passed every check, ready to store.
struct Candidate {
    line: u64,
    item: NewResponse,
}

/// Reads `input`, stores the valid rows and writes each rejected row to `rejects` (CSV:
/// `line,response_id,reason`). `progress` hears how many bytes have been read.
pub async fn import(
    db: &DatabaseConnection,
    input: impl Read,
    format: ImportFormat,
    rejects: impl Write,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<ImportSummary> {
    let mut run = Run {
        db,
        catalog: Catalog::default(),
        entries: HashMap::new(),
        rejects: csv::Writer::from_writer(rejects),
        summary: ImportSummary::default(),
        batch: Vec::new(),
        now: to_stored_precision(Utc::now()),
        tombstones: super::erasure::tombstone_key(db).await?,
    };
    run.rejects
        .write_record(["line", "response_id", "reason"])
        .context("writing the rejects file")?;
    match format {
        ImportFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
            let headers: csv::StringRecord = reader
                .headers()
                .context("reading the CSV header")?
                .iter()
                .map(restore)
                .collect();
            check_header(&headers)?;
            let mut record = csv::StringRecord::new();
            while reader
                .read_record(&mut record)
                .context("reading the CSV file")?
            {
                let line = record.position().map_or(0, csv::Position::line);
                let byte = record.position().map_or(0, csv::Position::byte);
                if record.len() != headers.len() {
                    run.reject(
                        line,
                        "",
                        &format!(
                            "has {} cells; the header has {}",
                            record.len(),
                            headers.len()
                        ),
                    )?;
                    continue;
                }
                let cells = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(name, cell)| (name, restore(cell)))
                    .map(|(name, cell)| {
                        let value = if cell.is_empty() {
                            Value::Null
                        } else {
                            Value::String(cell.to_owned())
                        };
                        (name.to_owned(), value)
                    })
                    .collect();
                run.record(Record { line, cells }).await?;
                progress(byte);
            }
        }
        ImportFormat::Ndjson => {
            let mut reader = BufReader::new(input);
            let mut text = String::new();
            let (mut line, mut bytes) = (0, 0);
            loop {
                text.clear();
                let read = reader
                    .read_line(&mut text)
                    .context("reading the NDJSON file")?;
                if read == 0 {
                    break;
                }
                line += 1;
                bytes += read as u64;
                if text.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(cells)) => run.record(Record { line, cells }).await?,
                    Ok(_) => run.reject(line, "", "is not a JSON object")?,
                    Err(error) => run.reject(line, "", &format!("is not valid JSON: {error}"))?,
                }
                progress(bytes);
            }
        }
    }
    run.flush().await?;
    run.rejects.flush().context("writing the rejects file")?;
    Ok(run.summary)
}

/// Every column of the header must be one an export writes, and the columns a row is built
/// from must all be there.
fn check_header(headers: &csv::StringRecord) -> anyhow::Result<()> {
    let unknown: Vec<&str> = headers.iter().filter(|h| !known_column(h)).collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "the CSV header has unknown columns: {}; expected the columns `readiness export` writes",
        unknown.join(", ")
    );
    let missing: Vec<&str> = LEADING
        .iter()
        .copied()
        .filter(|name| !DERIVED.contains(name))
        .filter(|name| !headers.iter().any(|h| h == *name))
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "the CSV header lacks the columns: {}",
        missing.join(", ")
    );
    Ok(())
}

/// Leading columns an import does not need: the server sets them again. A response is
/// rebuilt from the other leading columns (the answers are optional, the assessment is
/// recomputed).
const DERIVED: [&str; 1] = ["received_at"];

fn known_column(name: &str) -> bool {
    LEADING.contains(&name)
        || TRAILING.contains(&name)
        || name
            .strip_prefix(ANSWER_PREFIX)
            .is_some_and(|key| !key.is_empty())
}

struct Run<'a, W: Write> {
    db: &'a DatabaseConnection,
    catalog: Catalog,
    /// (survey, version) → its instrument, or `None` when no such version is released.
    entries: HashMap<(String, i32), Option<Arc<Entry>>>,
    rejects: csv::Writer<W>,
    summary: ImportSummary,
    batch: Vec<Candidate>,
    now: chrono::DateTime<Utc>,
    tombstones: TombstoneKey,
}

impl<W: Write> Run<'_, W> {
    fn reject(&mut self, line: u64, response_id: &str, reason: &str) -> anyhow::Result<()> {
        self.summary.read += 1;
        self.summary.rejected += 1;
        self.write_reject(line, response_id, reason)
    }

    fn write_reject(&mut self, line: u64, response_id: &str, reason: &str) -> anyhow::Result<()> {
        self.rejects
            .write_record([
                line.to_string().as_str(),
                &neutralise(response_id),
                &neutralise(reason),
            ])
            .context("writing the rejects file")
    }

    async fn record(&mut self, record: Record) -> anyhow::Result<()> {
        let response_id = match record.cells.get("response_id") {
            Some(Value::String(id)) => id.clone(),
            _ => String::new(),
        };
        match self.candidate(&record).await? {
            Ok(item) => {
                self.summary.read += 1;
                self.batch.push(Candidate {
                    line: record.line,
                    item,
                });
                if self.batch.len() >= IMPORT_BATCH {
                    self.flush().await?;
                }
                Ok(())
            }
            Err(problems) => self.reject(record.line, &response_id, &problems.join("; ")),
        }
    }

    /// The row checked and scored, or every problem with it (naming columns).
    async fn candidate(
        &mut self,
        record: &Record,
    ) -> anyhow::Result<Result<NewResponse, Vec<String>>> {
        let cells = &record.cells;
        let mut problems = Vec::new();
        for name in cells.keys().filter(|name| !known_column(name)) {
            problems.push(format!("`{name}` is not a column of an export"));
        }
        let id = match cells.get("response_id") {
            Some(Value::String(raw)) => Uuid::parse_str(raw)
                .map_err(|_| problems.push("`response_id` must be a UUID".to_owned()))
                .ok(),
            _ => {
                problems.push("`response_id` is required".to_owned());
                None
            }
        };
        if id.is_some_and(is_response_pseudonym) {
            problems.push(PSEUDONYMISED.to_owned());
        }
        let survey = match cells.get("survey") {
            Some(Value::String(slug)) => Some(slug.clone()),
            _ => {
                problems.push("`survey` is required".to_owned());
                None
            }
        };
        let version = match cells.get("version") {
            Some(Value::Number(n)) => n.as_i64().and_then(|v| i32::try_from(v).ok()),
            Some(Value::String(raw)) => raw.parse::<i32>().ok(),
            _ => None,
        };
        if version.is_none() {
            problems.push("`version` is required and must be an integer".to_owned());
        }
        if !matches!(cells.get("submitted_at"), Some(Value::String(_))) {
            problems.push("`submitted_at` is required".to_owned());
        }
        let entry = match (survey, version) {
            (Some(slug), Some(version)) => {
                let entry = self.entry(slug.clone(), version).await?;
                if entry.is_none() {
                    problems.push(format!(
                        "`version`: survey `{slug}` has no released version {version}"
                    ));
                }
                entry
            }
            _ => None,
        };
        let Some(entry) = entry else {
            return Ok(Err(problems));
        };
        let body = submission_body(cells);
        match Submission::parse(body, &entry.instrument, self.now, "") {
            Ok(submission) if problems.is_empty() => {
                let mut item = new_response(&entry, submission, Source::Import, None, self.now);
                item.row.id = id.unwrap_or(item.row.id);
                Ok(Ok(item))
            }
            Ok(_) => Ok(Err(problems)),
            Err(found) => {
                problems.extend(
                    found
                        .into_iter()
                        .map(|p| format!("`{}` {}", column_of_pointer(&p.pointer), p.message)),
                );
                Ok(Err(problems))
            }
        }
    }

    /// Rows of firms erased on request are rejected, not stored again: an old export must not
    /// bring back a firm that asked to be erased.
    async fn without_erased_firms(
        &mut self,
        batch: &[Candidate],
        rows: Vec<NewResponse>,
    ) -> anyhow::Result<Vec<NewResponse>> {
        let marks: Vec<String> = rows
            .iter()
            .map(|row| self.tombstones.firm(&row.firm_ref))
            .collect();
        let found = TombstoneStore::found(
            self.db,
            &marks.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await?;
        if found.is_empty() {
            return Ok(rows);
        }
        let mut kept = Vec::with_capacity(rows.len());
        for (row, mark) in rows.into_iter().zip(marks) {
            if !found.contains(&mark) {
                kept.push(row);
                continue;
            }
            let line = batch
                .iter()
                .find(|c| c.item.row.id == row.row.id)
                .map_or(0, |c| c.line);
            self.summary.rejected += 1;
            self.write_reject(
                line,
                &row.row.id.to_string(),
                "`firm_ref`: this firm was erased on request and may not be stored again",
            )?;
        }
        Ok(kept)
    }

    async fn entry(&mut self, slug: String, version: i32) -> anyhow::Result<Option<Arc<Entry>>> {
        let key = (slug, version);
        if let Some(found) = self.entries.get(&key) {
            return Ok(found.clone());
        }
        let entry = match SurveyQuery::released_version(self.db, &key.0, key.1).await? {
            Some(survey) => Some(
                self.catalog
                    .entry(&survey)
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?,
            ),
            None => None,
        };
        self.entries.insert(key, entry.clone());
        Ok(entry)
    }

    /// Stores the batch: rows already stored (or earlier in the file) with the same content
    /// count as present, with other content as rejected; the rest are inserted.
    async fn flush(&mut self) -> anyhow::Result<()> {
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = batch.iter().map(|c| c.item.row.id).collect();
        let existing = ResponseStore::by_ids(self.db, &ids).await?;
        let mut seen: HashMap<Uuid, usize> = HashMap::new();
        let mut to_insert: Vec<NewResponse> = Vec::new();
        for candidate in &batch {
            let id = candidate.item.row.id;
            let earlier = match existing.get(&id) {
                Some(stored) => Some(same(stored, &candidate.item)),
                None => seen
                    .get(&id)
                    .map(|&index| same_item(&to_insert[index], &candidate.item)),
            };
            match earlier {
                Some(true) => self.summary.already_present += 1,
                Some(false) => {
                    self.summary.rejected += 1;
                    self.write_reject(
                        candidate.line,
                        &id.to_string(),
                        "`response_id`: a different response with this id is already stored \
                         (or appears earlier in the file)",
                    )?;
                }
                None => {
                    seen.insert(id, to_insert.len());
                    to_insert.push(candidate.item.clone());
                }
            }
        }
        let to_insert = self.without_erased_firms(&batch, to_insert).await?;
        let offered = to_insert.len() as u64;
        let stored = ResponseStore::insert_bulk(self.db, to_insert)
            .await
            .context("storing imported responses")?;
        self.summary.stored += stored;
        // Rows another import stored between our look-up and our insert.
        self.summary.already_present += offered - stored.min(offered);
        Ok(())
    }
}

/// The cells as the submission they were exported from.
fn submission_body(cells: &Map<String, Value>) -> Value {
    let mut firm = Map::new();
    for (column, field) in [
        ("firm_ref", "ref"),
        ("industry", "industry"),
        ("size_band", "size_band"),
        ("country", "country"),
        ("region", "region"),
    ] {
        if let Some(value) = cells.get(column).filter(|v| !v.is_null()) {
            firm.insert(field.to_owned(), value.clone());
        }
    }
    let answers: Map<String, Value> = cells
        .iter()
        .filter(|(_, value)| !value.is_null())
        .filter_map(|(column, value)| {
            let key = column.strip_prefix(ANSWER_PREFIX)?;
            Some((key.to_owned(), value.clone()))
        })
        .collect();
    let mut body = json!({"firm": firm, "answers": answers});
    if let Some(at) = cells.get("submitted_at").filter(|v| !v.is_null()) {
        body["submitted_at"] = at.clone();
    }
    body
}

/// The column a submission's JSON pointer stands for.
fn column_of_pointer(pointer: &str) -> String {
    let unescape = |token: &str| token.replace("~1", "/").replace("~0", "~");
    match pointer.strip_prefix('/').map(|p| p.split_once('/')) {
        Some(Some(("firm", "ref"))) => "firm_ref".to_owned(),
        Some(Some(("firm", field))) => unescape(field),
        Some(Some(("answers", key))) => format!("{ANSWER_PREFIX}{}", unescape(key)),
        Some(None) if pointer == "/firm" => "firm_ref".to_owned(),
        Some(None) => unescape(&pointer[1..]),
        _ => pointer.to_owned(),
    }
}

fn same(stored: &Stored, item: &NewResponse) -> bool {
    stored.firm_ref == item.firm_ref && same_row(&stored.row, &item.row)
}

fn same_item(earlier: &NewResponse, item: &NewResponse) -> bool {
    earlier.firm_ref == item.firm_ref && same_row(&earlier.row, &item.row)
}

/// The same response as given: version, firm attributes, answers and submission time.
fn same_row(
    a: &crate::store::entities::response::Model,
    b: &crate::store::entities::response::Model,
) -> bool {
    a.survey_id == b.survey_id
        && a.industry == b.industry
        && a.size_band == b.size_band
        && a.country == b.country
        && a.region == b.region
        && a.answers == b.answers
        && a.submitted_at == b.submitted_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_name_the_columns_of_the_file() {
        assert_eq!(column_of_pointer("/firm/ref"), "firm_ref");
        assert_eq!(column_of_pointer("/firm/industry"), "industry");
        assert_eq!(
            column_of_pointer("/answers/business_age"),
            "answer_business_age"
        );
        assert_eq!(column_of_pointer("/submitted_at"), "submitted_at");
        assert_eq!(column_of_pointer("/answers"), "answers");
    }

    #[test]
    fn every_exported_column_is_known_and_nothing_else() {
        assert!(known_column("answer_business_age"));
        assert!(known_column("score_governance"));
        assert!(!known_column("answer_"));
        assert!(!known_column("colour"));
    }
}
