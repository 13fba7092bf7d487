//! Encoding export rows as CSV, NDJSON or Parquet, a page at a time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use polars::io::parquet::write::{BatchedWriter, ParquetWriter};
use polars::prelude::{
    Column, DataFrame, IntoColumn, IntoSeries, ListBuilderTrait, ListStringChunkedBuilder,
};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::ExportFormat;
use super::layout::{ANSWER_PREFIX, LEADING, Layout, TRAILING};
use super::spreadsheet::neutralise;
use crate::store::export_rows::ExportRow;

/// Rows per Parquet row group: big enough for good compression and few footer entries,
/// small enough that a group in the making stays a few megabytes.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Turns pages of rows into bytes. `start` gives what precedes the rows (a CSV header),
/// `finish` what follows them (the Parquet footer).
pub trait Encoder: Send {
    fn start(&mut self) -> anyhow::Result<Vec<u8>>;
    fn page(&mut self, rows: &[ExportRow]) -> anyhow::Result<Vec<u8>>;
    fn finish(&mut self) -> anyhow::Result<Vec<u8>>;
}

pub fn encoder(format: ExportFormat, layout: Arc<Layout>) -> anyhow::Result<Box<dyn Encoder>> {
    let answer_columns = layout
        .questions()
        .iter()
        .map(|q| format!("{ANSWER_PREFIX}{q}"))
        .collect();
    Ok(match format {
        ExportFormat::Csv => Box::new(Csv { layout }),
        ExportFormat::Ndjson => Box::new(Ndjson {
            layout,
            answer_columns,
        }),
        ExportFormat::Parquet => Box::new(Parquet::new(layout, answer_columns)?),
    })
}

/// Timestamps as RFC 3339 in UTC, with as many fraction digits as they have.
pub fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The separator of blockers in a CSV cell.
pub const BLOCKER_SEPARATOR: char = ';';

struct Csv {
    layout: Arc<Layout>,
}

impl Encoder for Csv {
    fn start(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer.write_record(
                self.layout
                    .columns()
                    .iter()
                    .map(|column| neutralise(column).into_owned()),
            )?;
            writer.flush()?;
        }
        Ok(out)
    }

    fn page(&mut self, rows: &[ExportRow]) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(rows.len() * 512);
        {
            let mut writer = csv::Writer::from_writer(&mut out);
            for row in rows {
                let (survey, version) = self.layout.version_of(row);
                writer.write_field(row.id.to_string())?;
                writer.write_field(neutralise(survey).as_ref())?;
                writer.write_field(version.to_string())?;
                writer.write_field(neutralise(&row.firm_ref).as_ref())?;
                writer.write_field(neutralise(&row.industry).as_ref())?;
                writer.write_field(neutralise(&row.size_band).as_ref())?;
                writer.write_field(neutralise(&row.country).as_ref())?;
                writer
                    .write_field(neutralise(row.region.as_deref().unwrap_or_default()).as_ref())?;
                writer.write_field(timestamp(&row.submitted_at))?;
                writer.write_field(timestamp(&row.received_at))?;
                for answer in self.layout.answers_of(row) {
                    writer.write_field(neutralise(answer.unwrap_or_default()).as_ref())?;
                }
                writer.write_field(neutralise(&row.tier).as_ref())?;
                writer.write_field(row.tier_rank.to_string())?;
                writer.write_field(if row.ready_to_customise {
                    "true"
                } else {
                    "false"
                })?;
                writer.write_field(
                    neutralise(&row.blockers.join(&BLOCKER_SEPARATOR.to_string())).as_ref(),
                )?;
                for score in row.scores {
                    writer.write_field(score.to_string())?;
                }
                writer.write_record(None::<&[u8]>)?;
            }
            writer.flush()?;
        }
        Ok(out)
    }

    fn finish(&mut self) -> anyhow::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

struct Ndjson {
    layout: Arc<Layout>,
    answer_columns: Vec<String>,
}

/// One NDJSON line: the columns in order, `null` for what is absent, blockers as an array.
struct Line<'a> {
    encoder: &'a Ndjson,
    row: &'a ExportRow,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (row, layout) = (self.row, &self.encoder.layout);
        let (survey, version) = layout.version_of(row);
        let mut map = serializer.serialize_map(Some(
            LEADING.len() + layout.questions().len() + TRAILING.len(),
        ))?;
        map.serialize_entry("response_id", &row.id)?;
        map.serialize_entry("survey", survey)?;
        map.serialize_entry("version", &version)?;
        map.serialize_entry("firm_ref", &row.firm_ref)?;
        map.serialize_entry("industry", &row.industry)?;
        map.serialize_entry("size_band", &row.size_band)?;
        map.serialize_entry("country", &row.country)?;
        map.serialize_entry("region", &row.region)?;
        map.serialize_entry("submitted_at", &timestamp(&row.submitted_at))?;
        map.serialize_entry("received_at", &timestamp(&row.received_at))?;
        for (column, answer) in self
            .encoder
            .answer_columns
            .iter()
            .zip(layout.answers_of(row))
        {
            map.serialize_entry(column, &answer)?;
        }
        map.serialize_entry("tier", &row.tier)?;
        map.serialize_entry("tier_rank", &row.tier_rank)?;
        map.serialize_entry("ready_to_customise", &row.ready_to_customise)?;
        map.serialize_entry("blockers", &row.blockers)?;
        let [maturity, clarity, vendor_gap, capability, governance] = row.scores;
        map.serialize_entry("score_maturity", &maturity)?;
        map.serialize_entry("score_clarity", &clarity)?;
        map.serialize_entry("score_vendor_gap", &vendor_gap)?;
        map.serialize_entry("score_capability", &capability)?;
        map.serialize_entry("score_governance", &governance)?;
        map.end()
    }
}

impl Encoder for Ndjson {
    fn start(&mut self) -> anyhow::Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn page(&mut self, rows: &[ExportRow]) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(rows.len() * 768);
        for row in rows {
            serde_json::to_writer(&mut out, &Line { encoder: self, row })?;
            out.push(b'\n');
        }
        Ok(out)
    }

    fn finish(&mut self) -> anyhow::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

/// The bytes the Parquet writer has produced and nobody has sent yet.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn take(&self) -> anyhow::Result<Vec<u8>> {
        let mut bytes = self
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("the Parquet buffer is poisoned"))?;
        Ok(std::mem::take(&mut *bytes))
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("the Parquet buffer is poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Parquet through Polars' batched writer: pages are gathered into a row group of
/// [`ROW_GROUP_ROWS`], each group is written and its bytes sent, and the footer comes last.
struct Parquet {
    layout: Arc<Layout>,
    answer_columns: Vec<String>,
    buffer: SharedBuffer,
    writer: BatchedWriter<SharedBuffer>,
    pending: Option<DataFrame>,
}

impl Parquet {
    fn new(layout: Arc<Layout>, answer_columns: Vec<String>) -> anyhow::Result<Self> {
        let buffer = SharedBuffer::default();
        let empty = frame(&layout, &answer_columns, &[])?;
        let writer = ParquetWriter::new(buffer.clone())
            .batched(empty.schema())
            .context("starting the Parquet writer")?;
        Ok(Self {
            layout,
            answer_columns,
            buffer,
            writer,
            pending: None,
        })
    }

    fn write_pending(&mut self) -> anyhow::Result<()> {
        if let Some(mut group) = self.pending.take() {
            group.rechunk_mut();
            self.writer
                .write_batch(&group)
                .context("writing a Parquet row group")?;
        }
        Ok(())
    }
}

impl Encoder for Parquet {
    fn start(&mut self) -> anyhow::Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn page(&mut self, rows: &[ExportRow]) -> anyhow::Result<Vec<u8>> {
        let page = frame(&self.layout, &self.answer_columns, rows)?;
        match &mut self.pending {
            Some(pending) => {
                pending.vstack_mut_owned(page)?;
            }
            None => self.pending = Some(page),
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.height() >= ROW_GROUP_ROWS)
        {
            self.write_pending()?;
        }
        self.buffer.take()
    }

    fn finish(&mut self) -> anyhow::Result<Vec<u8>> {
        self.write_pending()?;
        self.writer.finish().context("writing the Parquet footer")?;
        self.buffer.take()
    }
}

/// A page as a data frame with the export's columns.
fn frame(
    layout: &Layout,
    answer_columns: &[String],
    rows: &[ExportRow],
) -> anyhow::Result<DataFrame> {
    let text = |name: &str, get: &dyn Fn(&ExportRow) -> String| {
        Column::new(name.into(), rows.iter().map(get).collect::<Vec<_>>())
    };
    let mut columns = vec![
        text("response_id", &|r| r.id.to_string()),
        Column::new(
            "survey".into(),
            rows.iter()
                .map(|r| layout.version_of(r).0)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "version".into(),
            rows.iter()
                .map(|r| layout.version_of(r).1)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "firm_ref".into(),
            rows.iter().map(|r| r.firm_ref.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "industry".into(),
            rows.iter().map(|r| r.industry.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "size_band".into(),
            rows.iter()
                .map(|r| r.size_band.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "country".into(),
            rows.iter().map(|r| r.country.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "region".into(),
            rows.iter().map(|r| r.region.as_deref()).collect::<Vec<_>>(),
        ),
        text("submitted_at", &|r| timestamp(&r.submitted_at)),
        text("received_at", &|r| timestamp(&r.received_at)),
    ];
    let mut answers: Vec<Vec<Option<&str>>> =
        vec![Vec::with_capacity(rows.len()); answer_columns.len()];
    for row in rows {
        for (values, answer) in answers.iter_mut().zip(layout.answers_of(row)) {
            values.push(answer);
        }
    }
    for (name, values) in answer_columns.iter().zip(answers) {
        columns.push(Column::new(name.as_str().into(), values));
    }
    columns.push(Column::new(
        "tier".into(),
        rows.iter().map(|r| r.tier.as_str()).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "tier_rank".into(),
        rows.iter()
            .map(|r| i32::from(r.tier_rank))
            .collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "ready_to_customise".into(),
        rows.iter()
            .map(|r| r.ready_to_customise)
            .collect::<Vec<_>>(),
    ));
    let mut blockers = ListStringChunkedBuilder::new(
        "blockers".into(),
        rows.len(),
        rows.iter().map(|r| r.blockers.len()).sum(),
    );
    for row in rows {
        blockers.append_values_iter(row.blockers.iter().map(String::as_str));
    }
    columns.push(blockers.finish().into_series().into_column());
    for (index, name) in TRAILING[4..].iter().enumerate() {
        columns.push(Column::new(
            (*name).into(),
            rows.iter().map(|r| r.scores[index]).collect::<Vec<_>>(),
        ));
    }
    Ok(DataFrame::new(rows.len(), columns)?)
}
