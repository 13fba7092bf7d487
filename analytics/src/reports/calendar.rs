//! Calendar periods of UTC timestamps, without a date library.

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// (year, month 1–12) of a UTC timestamp in microseconds (proleptic Gregorian calendar).
pub fn year_month(micros: i64) -> (i64, u32) {
    // Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
    let days = micros.div_euclid(MICROS_PER_DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1))
}

/// Months since year 0 (year × 12 + month − 1): consecutive months differ by one.
pub fn month_index(micros: i64) -> i32 {
    let (year, month) = year_month(micros);
    i32::try_from(year * 12 + i64::from(month) - 1).unwrap_or(i32::MAX)
}

/// Quarters since year 0.
pub fn quarter_index(micros: i64) -> i32 {
    month_index(micros).div_euclid(3)
}

/// `2026-10` for a month index.
pub fn month_label(index: i32) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

/// `2026-Q4` for a quarter index.
pub fn quarter_label(index: i32) -> String {
    format!("{:04}-Q{}", index.div_euclid(4), index.rem_euclid(4) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2026-10-01T12:00:00Z
        let micros = 1_790_856_000_000_000;
        assert_eq!(year_month(micros), (2026, 10));
        assert_eq!(month_label(month_index(micros)), "2026-10");
        assert_eq!(quarter_label(quarter_index(micros)), "2026-Q4");
        assert_eq!(year_month(0), (1970, 1));
        // 2024-02-29T23:59:59.999999Z and the next microsecond
        let leap = 1_709_251_199_999_999;
        assert_eq!(year_month(leap), (2024, 2));
        assert_eq!(year_month(leap + 1), (2024, 3));
        assert_eq!(quarter_label(quarter_index(leap)), "2024-Q1");
        assert_eq!(year_month(-1), (1969, 12));
    }
}
