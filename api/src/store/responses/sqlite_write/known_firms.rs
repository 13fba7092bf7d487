//! The firms the writer's connection has stored or read, by reference, so that a response
//! from a known firm whose attributes did not change needs no firm lookup. [`Firm::matches`]
//! is also how the writer compares a firm read from the table with a response.
//!
//! What is kept always matches the database:
//! - entries are learned only from transactions that committed, and within a transaction
//!   what it wrote itself wins ([`FirmsSeen`]);
//! - everything is forgotten when another connection has committed since the last look
//!   (`PRAGMA data_version`, read once the write lock is held, so that nothing else can
//!   commit while the entries are used): an erasure, an import, another process.

use std::collections::HashMap;

use rusqlite::Connection;
use uuid::Uuid;

use crate::store::entities::response;

/// Firms kept at most (about 100 bytes each); a full map starts over.
const CAPACITY: usize = 65_536;

/// Firms known from committed transactions of this connection.
#[derive(Debug, Default)]
pub(super) struct KnownFirms {
    firms: HashMap<String, Firm>,
    /// `PRAGMA data_version` when `firms` was last known to match the database.
    data_version: Option<i64>,
}

impl KnownFirms {
    /// Forgets everything if another connection has committed since the last call. Call it
    /// with the write lock held.
    pub(super) fn sync(&mut self, connection: &Connection) -> rusqlite::Result<()> {
        // Prepared once, like the writer's other statements: this runs every transaction.
        let version: i64 = connection
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get(0))?;
        if self.data_version != Some(version) {
            self.firms.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Keeps what a transaction stored or read ([`FirmsSeen::finish`]); call it only once
    /// that transaction has committed.
    pub(super) fn learn(&mut self, seen: Seen) {
        let Seen(seen) = seen;
        if self.firms.len() + seen.len() > CAPACITY {
            self.firms.clear();
        }
        self.firms.extend(seen);
    }

    pub(super) fn forget(&mut self) {
        self.firms.clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.firms.len()
    }
}

/// The firms of one transaction: those known before it, and those it stored or read, which
/// win.
#[derive(Debug)]
pub(super) struct FirmsSeen<'a> {
    known: &'a KnownFirms,
    seen: HashMap<String, Firm>,
}

impl<'a> FirmsSeen<'a> {
    pub(super) fn new(known: &'a KnownFirms) -> Self {
        Self {
            known,
            seen: HashMap::new(),
        }
    }

    /// The firm's id, if it is known with exactly the row's attributes.
    pub(super) fn unchanged(&self, firm_ref: &str, row: &response::Model) -> Option<Uuid> {
        let firm = self
            .seen
            .get(firm_ref)
            .or_else(|| self.known.firms.get(firm_ref))?;
        firm.matches(row).then_some(firm.id)
    }

    /// What the transaction stored or read, to learn once it has committed.
    pub(super) fn finish(self) -> Seen {
        Seen(self.seen)
    }

    /// The firm is stored as `firm` now.
    pub(super) fn saw(&mut self, firm_ref: &str, firm: Firm) {
        self.seen.insert(firm_ref.to_owned(), firm);
    }
}

/// The firms a transaction stored or read.
#[derive(Debug)]
pub(super) struct Seen(HashMap<String, Firm>);

/// A firm's id and attributes as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Firm {
    pub(super) id: Uuid,
    attributes: Attributes,
}

impl Firm {
    /// As read from the `firms` table.
    pub(super) fn stored(
        id: Uuid,
        industry: &str,
        size_band: &str,
        country: &str,
        region: Option<&str>,
    ) -> Self {
        Self {
            id,
            attributes: Attributes::new([industry, size_band, country], region),
        }
    }

    /// With the attributes a response was submitted with.
    pub(super) fn submitted(id: Uuid, row: &response::Model) -> Self {
        let parts = [&row.industry, &row.size_band, &row.country].map(String::as_str);
        Self {
            id,
            attributes: Attributes::new(parts, row.region.as_deref()),
        }
    }

    /// Whether the firm has exactly the attributes the response was submitted with (a
    /// region that stays absent is no change).
    pub(super) fn matches(&self, row: &response::Model) -> bool {
        let attributes = &self.attributes;
        let [a, b, c] = attributes.ends;
        let text = &*attributes.text;
        text.get(..a) == Some(row.industry.as_str())
            && text.get(a..b) == Some(row.size_band.as_str())
            && text.get(b..c) == Some(row.country.as_str())
            && match row.region.as_deref() {
                None => !attributes.has_region,
                Some(region) => attributes.has_region && text.get(c..) == Some(region),
            }
    }
}

/// Industry, size band, country and region, in one allocation: `text` holds them one after
/// another, `ends` where the first three end.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attributes {
    text: Box<str>,
    ends: [usize; 3],
    has_region: bool,
}

impl Attributes {
    fn new(parts: [&str; 3], region: Option<&str>) -> Self {
        let mut text = String::with_capacity(
            parts.iter().map(|part| part.len()).sum::<usize>() + region.map_or(0, str::len),
        );
        let ends = parts.map(|part| {
            text.push_str(part);
            text.len()
        });
        text.push_str(region.unwrap_or(""));
        Self {
            text: text.into_boxed_str(),
            ends,
            has_region: region.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        industry: &str,
        size_band: &str,
        country: &str,
        region: Option<&str>,
    ) -> response::Model {
        response::Model {
            id: Uuid::nil(),
            survey_id: 1,
            firm_id: Uuid::nil(),
            answers: serde_json::Value::Null,
            industry: industry.to_owned(),
            size_band: size_band.to_owned(),
            country: country.to_owned(),
            region: region.map(str::to_owned),
            tier: String::new(),
            tier_rank: 0,
            ready_to_customise: false,
            blockers: serde_json::Value::Null,
            score_maturity: 0.0,
            score_clarity: 0.0,
            score_vendor_gap: 0.0,
            score_capability: 0.0,
            score_governance: 0.0,
            rubric_version: String::new(),
            submitted_at: chrono::DateTime::UNIX_EPOCH,
            received_at: chrono::DateTime::UNIX_EPOCH,
            source: String::new(),
            idempotency_key: None,
            payload_hash: None,
        }
    }

    #[test]
    fn a_firm_matches_exactly_the_attributes_submitted() {
        let kept = Firm::submitted(Uuid::nil(), &row("C", "small", "DE", Some("DE-BY")));
        assert!(kept.matches(&row("C", "small", "DE", Some("DE-BY"))));
        for other in [
            row("C", "small", "DE", None),
            row("C", "small", "DE", Some("DE-BE")),
            row("C", "smal", "lDE", Some("DE-BY")),
            row("G", "small", "DE", Some("DE-BY")),
            row("C", "small", "AT", Some("DE-BY")),
            row("C", "small", "DE", Some("")),
        ] {
            assert!(!kept.matches(&other), "{other:?}");
        }
        let without = Firm::stored(Uuid::nil(), "C", "small", "DE", None);
        assert!(without.matches(&row("C", "small", "DE", None)));
        assert!(!without.matches(&row("C", "small", "DE", Some(""))));
    }

    #[test]
    fn what_a_transaction_saw_wins_and_is_kept_once_learned() {
        let mut known = KnownFirms::default();
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        let small = row("C", "small", "DE", None);
        let large = row("C", "large", "DE", None);
        let mut seen = FirmsSeen::new(&known);
        assert_eq!(seen.unchanged("acme", &small), None);
        seen.saw("acme", Firm::submitted(first, &small));
        assert_eq!(seen.unchanged("acme", &small), Some(first));
        seen.saw("acme", Firm::submitted(first, &large));
        assert_eq!(seen.unchanged("acme", &small), None, "the later write wins");
        known.learn(seen.finish());

        let mut seen = FirmsSeen::new(&known);
        assert_eq!(seen.unchanged("acme", &large), Some(first));
        seen.saw("other", Firm::submitted(second, &small));
        // A transaction that did not commit is never learned.
        drop(seen);
        assert_eq!(FirmsSeen::new(&known).unchanged("other", &small), None);
        assert_eq!(known.len(), 1);
        known.forget();
        assert_eq!(FirmsSeen::new(&known).unchanged("acme", &large), None);
    }

    #[test]
    fn another_connections_commit_forgets_everything() {
        let dir = super::super::tests::scratch_dir("known-firms");
        let path = dir.join("firms.db");
        let ours = Connection::open(&path).unwrap();
        let theirs = Connection::open(&path).unwrap();
        ours.execute_batch("PRAGMA journal_mode = wal; CREATE TABLE t (x)")
            .unwrap();
        let mut known = KnownFirms::default();
        known.sync(&ours).unwrap();
        let mut seen = FirmsSeen::new(&known);
        seen.saw(
            "acme",
            Firm::submitted(Uuid::now_v7(), &row("C", "small", "DE", None)),
        );
        known.learn(seen.finish());

        ours.execute("INSERT INTO t VALUES (1)", []).unwrap();
        known.sync(&ours).unwrap();
        assert_eq!(
            known.len(),
            1,
            "this connection's own commits keep what is known"
        );
        theirs.execute("INSERT INTO t VALUES (2)", []).unwrap();
        known.sync(&ours).unwrap();
        assert_eq!(known.len(), 0, "another connection's commit forgets it");
        drop((ours, theirs));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
