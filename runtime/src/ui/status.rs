//! The status line: batches done, input rate, the last batch's processing time and
//! delay, rewritten in place (`\r`) on stderr about once a second while the context
//! runs, only when stdout is a terminal.

use super::api::RATE_BATCHES;
use crate::driver::Driver;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the line is rewritten.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// How often the thread looks at the stop flag between rewrites.
const POLL: Duration = Duration::from_millis(50);

/// The status line of a context, without a line end.
pub(crate) fn line(driver: &Driver) -> String {
    let recent = driver.run.last_batch_infos(RATE_BATCHES);
    let totals = driver.run.totals();
    let interval = driver.config.interval().as_secs_f64().max(1e-9);
    let rate = if recent.is_empty() {
        0.0
    } else {
        recent.iter().map(|b| b.records).sum::<usize>() as f64 / interval / recent.len() as f64
    };
    let mut out = format!(
        "rill: {} | {} batches | {} records/s",
        driver.run.state_name(),
        totals.batches,
        human(rate)
    );
    if let Some(b) = recent.last() {
        out.push_str(&format!(
            " | last: {} processing, {} delay",
            millis(b.processing_time),
            millis(b.scheduling_delay)
        ));
    }
    let active = driver.run.active_batches().len();
    if active > 1 {
        out.push_str(&format!(" | {} queued", active - 1));
    }
    if totals.failed_batches > 0 {
        out.push_str(&format!(" | {} failed", totals.failed_batches));
    }
    out
}

/// `x` with a k or M suffix.
fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// `d` in milliseconds, one decimal under 10 ms.
fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Starts the thread that keeps the status line on stderr, if stdout is a terminal;
/// the context joins it when it stops, after it ends the line.
pub(crate) fn spawn(driver: &Arc<Driver>) -> crate::Result<()> {
    if !std::io::stdout().is_terminal() {
        return Ok(());
    }
    let d = driver.clone();
    let handle = std::thread::Builder::new()
        .name("rill-status".into())
        .spawn(move || {
            let mut next = Instant::now();
            let mut width = 0usize;
            while !d.run.stopping() {
                if Instant::now() >= next {
                    next += EVERY;
                    let text = line(&d);
                    // Pad over a longer previous line instead of relying on escapes.
                    let pad = width.saturating_sub(text.chars().count());
                    width = text.chars().count();
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r{text}{}", " ".repeat(pad));
                    let _ = err.flush();
                }
                std::thread::sleep(POLL);
            }
            if width > 0 {
                let _ = writeln!(std::io::stderr(), "\r{}", line(&d));
            }
        })
        .map_err(|e| crate::Error::io("cannot start the status line thread", e))?;
    driver.run.add_thread(handle);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_times_read_at_a_glance() {
        assert_eq!(human(950.4), "950");
        assert_eq!(human(45_300.0), "45k");
        assert_eq!(human(16_400_000.0), "16.4M");
        assert_eq!(millis(Duration::from_micros(2500)), "2.5 ms");
        assert_eq!(millis(Duration::from_millis(120)), "120 ms");
    }
}
