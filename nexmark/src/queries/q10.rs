//! Query 10, log to file system: every bid as a line of text, with its date and minute,
//! into one directory per batch.
//!
//! ```sql
//! INSERT INTO fs_sink
//! SELECT auction, bidder, price, date_time, extra,
//!        DATE_FORMAT(date_time, 'yyyy-MM-dd'), DATE_FORMAT(date_time, 'HH:mm')
//! FROM bid;
//! ```
//!
//! `save_as_text_files(prefix, "csv")` writes batch `t` to `prefix-t.csv/part-NNNNN`
//! (one file per partition, `_SUCCESS` last, swapped in atomically). Two differences
//! from Flink's sink: the directories are per batch, not partitioned by date and minute
//! (those are columns of the line instead), and the `extra` padding is left out, to
//! keep the test's files small (46 MB for a million events). `save_as_text_files`
//! writes each record with `Debug`, so a line is a [`Line`], whose `Debug` is its text.
//!
//! **Written per batch**: a line `auction,bidder,price,date_time,yyyy-mm-dd,HH:mm` (UTC)
//! per bid of the batch. The test reads every batch's files back and compares its lines,
//! sorted, with the reference's.

use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::fmt;
use std::path::Path;

/// A line of text, written as it is.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Line(pub String);

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `(yyyy-mm-dd, HH:mm)` of a time in ms since the epoch, in UTC.
pub fn date_and_minute(ms: u64) -> (String, String) {
    let secs = ms / 1000;
    let (days, of_day) = ((secs / 86_400) as i64, secs % 86_400);
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}", of_day / 3600, of_day % 3600 / 60),
    )
}

/// A bid's line, if the event is a bid.
fn line(e: Event) -> Option<Line> {
    match e {
        Event::Bid(b) => {
            let (date, minute) = date_and_minute(b.date_time);
            Some(Line(format!(
                "{},{},{},{},{date},{minute}",
                b.auction, b.bidder, b.price, b.date_time
            )))
        }
        _ => None,
    }
}

/// The pipeline: `events` in, every batch's lines under `dir` (as `bids-TIME.csv/`;
/// `save_as_text_files` takes its prefix as a `String`, so a path that is not UTF-8 is
/// written lossily).
pub fn pipeline<S: Source<Event>>(ctx: &StreamingContext, events: S, dir: &Path) {
    let prefix = dir.join("bids").to_string_lossy().into_owned();
    stream! { ctx;
        let events = source(events);
        events.filter_map(line).save_as_text_files(prefix, "csv");
    }
}

/// What the test compares: every batch's lines, sorted, in batch order.
pub type Output = Vec<Vec<String>>;

/// The comparable form of what the pipeline wrote under `dir`: each batch directory's
/// part files, read back, in batch order.
pub fn result(dir: &Path) -> std::io::Result<Output> {
    let mut batches: Vec<(u64, Vec<String>)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(time) = name
            .strip_prefix("bids-")
            .and_then(|n| n.strip_suffix(".csv"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let mut lines = Vec::new();
        for part in std::fs::read_dir(&path)? {
            let part = part?.path();
            let is_part = part
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("part-"));
            if is_part {
                lines.extend(std::fs::read_to_string(&part)?.lines().map(str::to_string));
            }
        }
        lines.sort();
        batches.push((time, lines));
    }
    batches.sort();
    Ok(batches.into_iter().map(|(_, lines)| lines).collect())
}

/// The reference: every batch's bids as lines, by a loop.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let mut out = Vec::new();
    for events in batches {
        let mut lines = Vec::new();
        for e in &events {
            if let Event::Bid(b) = e {
                let (date, minute) = date_and_minute(b.date_time);
                lines.push(format!(
                    "{},{},{},{},{},{}",
                    b.auction, b.bidder, b.price, b.date_time, date, minute
                ));
            }
        }
        lines.sort();
        out.push(lines);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_minutes_are_utc() {
        let at = |s: &str, m: &str| (s.to_string(), m.to_string());
        assert_eq!(date_and_minute(0), at("1970-01-01", "00:00"));
        assert_eq!(date_and_minute(crate::BASE_TIME), at("2023-11-14", "22:13"));
        // 2024-02-29T23:59:59.999Z, a leap day.
        assert_eq!(
            date_and_minute(1_709_251_199_999),
            at("2024-02-29", "23:59")
        );
        assert_eq!(
            date_and_minute(1_709_251_200_000),
            at("2024-03-01", "00:00")
        );
        assert_eq!(date_and_minute(951_782_400_000), at("2000-02-29", "00:00"));
    }
}
