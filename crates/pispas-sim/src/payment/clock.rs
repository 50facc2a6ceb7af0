//! Wall-clock date and time for receipts (UTC: the simulators have no time zone database, and
//! a host's "local" time is the terminal's business). Pure conversion from Unix seconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Timestamp {
    /// Now, in UTC.
    pub fn now() -> Timestamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Timestamp::from_unix(i64::try_from(secs).unwrap_or(0))
    }

    /// The UTC date of `secs` since 1970 (days-from-civil inverted, proleptic Gregorian).
    pub fn from_unix(secs: i64) -> Timestamp {
        let days = secs.div_euclid(86_400);
        let rest = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Timestamp {
            year,
            month,
            day,
            hour: (rest / 3_600) as u32,
            minute: (rest % 3_600 / 60) as u32,
            second: (rest % 60) as u32,
        }
    }

    /// `YYMMDD`, as myPOS `TX_DATE_LOCAL` (INFERRED format).
    pub fn yymmdd(&self) -> String {
        format!(
            "{:02}{:02}{:02}",
            self.year.rem_euclid(100),
            self.month,
            self.day
        )
    }

    /// `HHMMSS`, as myPOS `TX_TIME_LOCAL`.
    pub fn hhmmss(&self) -> String {
        format!("{:02}{:02}{:02}", self.hour, self.minute, self.second)
    }

    /// `DD/MM/YYYY HH:MM`, as printed on receipts.
    pub fn printed(&self) -> String {
        format!(
            "{:02}/{:02}/{} {:02}:{:02}",
            self.day, self.month, self.year, self.hour, self.minute
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn known_dates_convert() {
        let t = Timestamp::from_unix(0);
        assert_eq!((t.year, t.month, t.day, t.hour), (1970, 1, 1, 0));
        // 2024-02-29 13:45:07 UTC
        let t = Timestamp::from_unix(1_709_214_307);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (2024, 2, 29, 13, 45, 7)
        );
        assert_eq!(t.yymmdd(), "240229");
        assert_eq!(t.hhmmss(), "134507");
        assert_eq!(t.printed(), "29/02/2024 13:45");
    }
}
