//! Batch times: milliseconds since the epoch (system clock) or since zero (manual clock),
//! and where the system clock puts the first batch.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time of a batch, in milliseconds, printed as Spark prints it (`"1000 ms"`).
///
/// With the manual clock batch `k` (k = 1, 2, ...) has time `k * interval`; with the
/// system clock batch times are wall-clock milliseconds aligned to the interval.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Time(pub u64);

impl Time {
    /// Milliseconds of this time.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// Milliseconds of this time (Spark's `Time.milliseconds`).
    pub fn milliseconds(self) -> u64 {
        self.0
    }

    /// This time moved forward by `d` (rounded down to whole milliseconds), saturating at
    /// `Time(u64::MAX)` (some 584 million years after the epoch) instead of overflowing;
    /// [`checked_plus`](Self::checked_plus) tells when that would happen.
    pub fn plus(self, d: Duration) -> Time {
        self.checked_plus(d).unwrap_or(Time(u64::MAX))
    }

    /// This time moved forward by `d` (rounded down to whole milliseconds), or `None` if
    /// that is past `Time(u64::MAX)`.
    ///
    /// ```
    /// use rill_runtime::Time;
    /// use std::time::Duration;
    /// assert_eq!(Time(1000).checked_plus(Duration::from_secs(1)), Some(Time(2000)));
    /// assert_eq!(Time(u64::MAX).checked_plus(Duration::from_millis(1)), None);
    /// ```
    pub fn checked_plus(self, d: Duration) -> Option<Time> {
        let ms = u64::try_from(d.as_millis()).ok()?;
        self.0.checked_add(ms).map(Time)
    }

    /// This time moved back by `d`, saturating at zero.
    pub fn minus(self, d: Duration) -> Time {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Time(self.0.saturating_sub(ms))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The first batch time after `now_ms` for `interval_ms`: the next multiple of the
/// interval, as Spark's `RecurringTimer` (`(floor(now / interval) + 1) * interval`).
///
/// It never panics: an interval of zero (which no context accepts) is taken as 1 ms, so
/// the answer is the next millisecond, and a multiple past `u64::MAX` saturates at
/// `Time(u64::MAX)`.
pub fn first_batch_time(now_ms: u64, interval_ms: u64) -> Time {
    let interval = interval_ms.max(1);
    Time(
        (now_ms / interval)
            .checked_add(1)
            .and_then(|k| k.checked_mul(interval))
            .unwrap_or(u64::MAX),
    )
}

/// Parses a duration as written on a command line: `500ms`, `1s`, `2m`, `1h` or a bare
/// number of milliseconds.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(rill_runtime::parse_duration("500ms"), Ok(Duration::from_millis(500)));
/// assert_eq!(rill_runtime::parse_duration("2s"), Ok(Duration::from_secs(2)));
/// assert!(rill_runtime::parse_duration("fast").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let too_long = || format!("`{text}` is too long a duration");
    let n: u64 = num.parse().map_err(|e: std::num::ParseIntError| {
        if *e.kind() == std::num::IntErrorKind::PosOverflow {
            too_long()
        } else {
            format!("`{text}` is not a duration (try 500ms, 1s, 2m)")
        }
    })?;
    let secs = |per: u64| {
        n.checked_mul(per)
            .map(Duration::from_secs)
            .ok_or_else(too_long)
    };
    let d = match unit.trim() {
        "" | "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" | "min" => secs(60)?,
        "h" => secs(3600)?,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use ms, s, m or h)"
            ));
        }
    };
    if d.is_zero() {
        return Err(format!("`{text}`: a duration must be positive"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_spark() {
        assert_eq!(Time(1000).to_string(), "1000 ms");
    }

    #[test]
    fn arithmetic() {
        assert_eq!(Time(1000).plus(Duration::from_secs(1)), Time(2000));
        assert_eq!(Time(1000).minus(Duration::from_secs(2)), Time(0));
        assert_eq!(Time(1000).minus(Duration::MAX), Time(0));
    }

    #[test]
    fn plus_saturates_and_checked_plus_tells() {
        let ms = Duration::from_millis(1);
        assert_eq!(Time(u64::MAX).checked_plus(ms), None);
        assert_eq!(Time(u64::MAX - 1).checked_plus(ms), Some(Time(u64::MAX)));
        assert_eq!(Time(u64::MAX).plus(ms), Time(u64::MAX));
        // More milliseconds than a u64 holds: not truncated to a small number.
        assert_eq!(Time(0).checked_plus(Duration::MAX), None);
        assert_eq!(Time(5).plus(Duration::MAX), Time(u64::MAX));
    }

    #[test]
    fn durations_too_long_are_errors_naming_the_value() {
        for text in [
            "99999999999999999999h",
            "18446744073709551615h",
            "18446744073709551615m",
            "5124095576030432h",
            "99999999999999999999",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains(text), "{err}");
        }
        assert_eq!(
            parse_duration("18446744073709551615s"),
            Ok(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_duration("5124095576030431h"),
            Ok(Duration::from_secs(5_124_095_576_030_431 * 3600))
        );
    }

    #[test]
    fn first_batch_is_the_next_multiple() {
        assert_eq!(first_batch_time(1_234, 1_000), Time(2_000));
        assert_eq!(first_batch_time(2_000, 1_000), Time(3_000));
        assert_eq!(first_batch_time(0, 500), Time(500));
    }

    #[test]
    fn first_batch_time_does_not_panic() {
        assert_eq!(first_batch_time(1_234, 0), Time(1_235));
        assert_eq!(first_batch_time(u64::MAX, 0), Time(u64::MAX));
        assert_eq!(first_batch_time(u64::MAX - 1, 1_000), Time(u64::MAX));
        assert_eq!(first_batch_time(5, u64::MAX), Time(u64::MAX));
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1 fortnight").is_err());
        assert!(parse_duration("").is_err());
    }
}
