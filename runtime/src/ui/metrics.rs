//! `/metrics`: the context's metrics in Prometheus' text format (version 0.0.4): every
//! name prefixed `rill_`, counters ending in `_total`, durations in `_seconds`, a HELP
//! and TYPE line per family, histograms of processing time and delays over every batch
//! run (not only the kept ones, so counters never go down), and a `receiver` label (the
//! source's index) with its `source` description on per-source families.

use crate::driver::Driver;
use crate::metrics::{BUCKETS, Histogram};
use std::fmt::Write;

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes a label value: backslash, quote and newline escaped, as the format asks.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A number as the format writes it.
fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        x.to_string()
    }
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &str, value: f64) {
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {}", num(value));
        } else {
            let _ = writeln!(self.0, "{name}{{{labels}}} {}", num(value));
        }
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, "", value);
    }

    fn histogram(&mut self, name: &str, help: &str, h: &Histogram) {
        self.family(name, "histogram", help);
        for (bound, n) in BUCKETS.iter().zip(h.cumulative()) {
            self.sample(
                &format!("{name}_bucket"),
                &format!("le=\"{}\"", num(*bound)),
                n as f64,
            );
        }
        self.sample(&format!("{name}_bucket"), "le=\"+Inf\"", h.count as f64);
        self.sample(&format!("{name}_sum"), "", h.sum_seconds);
        self.sample(&format!("{name}_count"), "", h.count as f64);
    }
}

/// The metrics text.
pub(crate) fn render(driver: &Driver) -> String {
    let mut o = Out(String::with_capacity(8 * 1024));
    let totals = driver.run.totals();
    let (created, started) = driver.run.created_started();
    let uptime = started.unwrap_or(created).0.elapsed();
    o.one(
        "rill_up",
        "gauge",
        "1 while the streaming context runs batches, 0 before start and after stop.",
        f64::from(u8::from(driver.run.state_name() == "active")),
    );
    o.one(
        "rill_uptime_seconds",
        "gauge",
        "Seconds since the streaming context started (or was built, before start).",
        uptime.as_secs_f64(),
    );
    o.one(
        "rill_batch_interval_seconds",
        "gauge",
        "The batch interval.",
        driver.config.interval().as_secs_f64(),
    );
    o.one(
        "rill_batches_completed_total",
        "counter",
        "Batches whose jobs ran to the end (failed ones included).",
        totals.batches as f64,
    );
    o.one(
        "rill_batches_failed_total",
        "counter",
        "Batches whose jobs failed.",
        totals.failed_batches as f64,
    );
    o.one(
        "rill_batches_active",
        "gauge",
        "Batches cut and not yet completed (queued or running).",
        driver.run.active_batches().len() as f64,
    );
    o.one(
        "rill_last_batch_time_seconds",
        "gauge",
        "The time of the last batch cut, in seconds (since the Unix epoch on the system clock).",
        driver.run.last_time().millis() as f64 / 1000.0,
    );
    o.one(
        "rill_input_records_total",
        "counter",
        "Records in the completed batches.",
        totals.records as f64,
    );
    o.one(
        "rill_late_records_total",
        "counter",
        "Records the event-time operators found too late for their windows.",
        totals.late_records as f64,
    );
    o.one(
        "rill_malformed_records_total",
        "counter",
        "Input lines skipped because they were malformed.",
        driver.sources.malformed_count() as f64,
    );
    o.histogram(
        "rill_batch_processing_seconds",
        "How long each batch's jobs ran.",
        &totals.processing,
    );
    o.histogram(
        "rill_batch_scheduling_delay_seconds",
        "From each batch's time until its jobs started.",
        &totals.scheduling_delay,
    );
    o.histogram(
        "rill_batch_total_delay_seconds",
        "Scheduling delay plus processing time of each batch.",
        &totals.total_delay,
    );
    o.family(
        "rill_stage_seconds_total",
        "counter",
        "Seconds spent in each stage of each pipeline.",
    );
    for (p, s, secs, _) in &totals.stage_seconds {
        o.sample(
            "rill_stage_seconds_total",
            &format!("pipeline=\"{p}\",stage=\"{s}\""),
            *secs,
        );
    }
    o.family(
        "rill_stage_runs_total",
        "counter",
        "Times each stage of each pipeline ran.",
    );
    for (p, s, _, runs) in &totals.stage_seconds {
        o.sample(
            "rill_stage_runs_total",
            &format!("pipeline=\"{p}\",stage=\"{s}\""),
            *runs as f64,
        );
    }
    let sources = driver.sources.statuses();
    let labels: Vec<String> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| format!("receiver=\"{i}\",source=\"{}\"", label(&s.description)))
        .collect();
    o.family(
        "rill_receiver_records_total",
        "counter",
        "Records each source cut into completed batches.",
    );
    for (i, l) in labels.iter().enumerate() {
        let n = totals.source_records.get(i).copied().unwrap_or(0);
        o.sample("rill_receiver_records_total", l, n as f64);
    }
    let receivers: Vec<usize> = (0..sources.len())
        .filter(|i| sources[*i].receiver)
        .collect();
    o.family(
        "rill_receiver_received_records_total",
        "counter",
        "Records each receiver received (buffered ones included).",
    );
    for i in &receivers {
        let received = sources[*i].received as f64;
        o.sample(
            "rill_receiver_received_records_total",
            &labels[*i],
            received,
        );
    }
    o.family(
        "rill_receiver_buffered_blocks",
        "gauge",
        "Blocks each receiver holds that no batch took yet.",
    );
    for i in &receivers {
        let blocks = sources[*i].buffered_blocks as f64;
        o.sample("rill_receiver_buffered_blocks", &labels[*i], blocks);
    }
    o.family(
        "rill_receiver_rate_limit_records_per_second",
        "gauge",
        "Each receiver's rate limit (0: unlimited).",
    );
    for i in &receivers {
        let limit = sources[*i].rate_limit as f64;
        o.sample(
            "rill_receiver_rate_limit_records_per_second",
            &labels[*i],
            limit,
        );
    }
    o.family(
        "rill_receiver_failed",
        "gauge",
        "1 if the receiver failed (the context stops with its error).",
    );
    for i in &receivers {
        let failed = f64::from(u8::from(sources[*i].error.is_some()));
        o.sample("rill_receiver_failed", &labels[*i], failed);
    }
    let cp = driver.durability.status();
    o.one(
        "rill_checkpoints_written_total",
        "counter",
        "Checkpoint snapshots this run wrote.",
        cp.written as f64,
    );
    if let Some((t, _)) = cp.last {
        o.one(
            "rill_last_checkpoint_batch_time_seconds",
            "gauge",
            "The batch time of the last checkpoint written, in seconds.",
            t.millis() as f64 / 1000.0,
        );
    }
    o.one(
        "rill_recovered",
        "gauge",
        "1 if this run recovered from a checkpoint.",
        f64::from(u8::from(cp.recovered_from.is_some())),
    );
    o.0
}
