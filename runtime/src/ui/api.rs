//! The JSON API under `/api/v1/`: `batches`, `receivers`, `plan` and `status`, each a
//! snapshot of the context's parts read under their short locks. JSON is written by
//! hand ([`Json`]), with strings escaped as RFC 8259 asks.

use super::server::{Request, Response};
use crate::driver::Driver;
use crate::metrics::{BatchInfo, KEPT_BATCHES};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Completed batches `/api/v1/batches` lists unless `?limit=N` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 300;

/// Batches the average receiver rates are taken over.
pub(crate) const RATE_BATCHES: usize = 10;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A number (not finite: `null`).
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, its keys in this order.
    Obj(Vec<(&'static str, Json)>),
    /// JSON written elsewhere (the plan graph `stream!` made), written as it is.
    Raw(String),
}

impl Json {
    /// A string value.
    pub(crate) fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// An optional value, `null` when absent.
    pub(crate) fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Json) -> Json {
        v.map_or(Json::Null, f)
    }

    /// Milliseconds of `d`, with microseconds as the fraction.
    pub(crate) fn ms(d: Duration) -> Json {
        Json::Num(d.as_micros() as f64 / 1000.0)
    }

    /// Milliseconds since the Unix epoch of `t`.
    pub(crate) fn epoch_ms(t: SystemTime) -> Json {
        Json::Int(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) as i128)
    }

    /// The value as JSON text.
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Num(x) if x.is_finite() => out.push_str(&x.to_string()),
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => escape(s, out),
            Json::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    escape(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
            Json::Raw(s) => out.push_str(s),
        }
    }

    /// The value as JSON text.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// Writes `s` as a JSON string: quotes, backslashes and control characters escaped
/// (and U+2028/U+2029, which some JavaScript parsers take for line ends).
pub(crate) fn escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Answers `/api/v1/<what>`.
pub(crate) fn answer(driver: &Driver, what: &str, req: &Request) -> Response {
    let body = match what {
        "batches" => {
            let limit = match req.param("limit") {
                None => DEFAULT_LIMIT,
                Some(v) => match v.parse::<usize>() {
                    Ok(n) => n.min(KEPT_BATCHES),
                    Err(_) => {
                        return Response::error(400, "limit must be a non-negative integer");
                    }
                },
            };
            batches(driver, limit)
        }
        "receivers" => receivers(driver),
        "plan" => plan(driver),
        "status" => status(driver),
        _ => return Response::error(404, "no such API endpoint"),
    };
    Response::ok("application/json", body.text())
}

/// Records per second of `records` over one batch interval.
fn rate(records: usize, interval: Duration) -> f64 {
    records as f64 / interval.as_secs_f64().max(1e-9)
}

/// A completed batch.
pub(crate) fn batch(b: &BatchInfo, interval: Duration) -> Json {
    Json::Obj(vec![
        ("time_ms", Json::Int(b.time.millis() as i128)),
        ("records", Json::Int(b.records as i128)),
        ("late_records", Json::Int(b.late_records as i128)),
        (
            "source_records",
            Json::Arr(
                b.source_records
                    .iter()
                    .map(|n| Json::Int(*n as i128))
                    .collect(),
            ),
        ),
        ("input_rate", Json::Num(rate(b.records, interval))),
        ("scheduling_delay_ms", Json::ms(b.scheduling_delay)),
        ("processing_time_ms", Json::ms(b.processing_time)),
        ("total_delay_ms", Json::ms(b.total_delay())),
        (
            "pipeline_times_ms",
            Json::Arr(b.pipeline_times.iter().map(|d| Json::ms(*d)).collect()),
        ),
        (
            "stages",
            Json::Arr(
                b.stage_times
                    .iter()
                    .map(|s| {
                        Json::Obj(vec![
                            ("pipeline", Json::Int(s.pipeline as i128)),
                            ("stage", Json::Int(s.stage as i128)),
                            ("time_ms", Json::ms(s.time)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// `/api/v1/batches`: the batches in flight and the last `limit` completed, oldest
/// first, with the running totals.
pub(crate) fn batches(driver: &Driver, limit: usize) -> Json {
    let interval = driver.config.interval();
    let active = driver.run.active_batches();
    let done = driver.run.last_batch_infos(limit);
    let totals = driver.run.totals();
    Json::Obj(vec![
        ("batch_interval_ms", Json::Int(interval.as_millis() as i128)),
        (
            "active",
            Json::Arr(
                active
                    .iter()
                    .map(|a| {
                        Json::Obj(vec![
                            ("time_ms", Json::Int(a.time.millis() as i128)),
                            ("records", Json::Int(a.records as i128)),
                            ("cut_at_ms", Json::epoch_ms(a.cut_at)),
                            ("started_at_ms", Json::opt(a.started_at, Json::epoch_ms)),
                            (
                                "status",
                                Json::str(if a.started_at.is_some() {
                                    "processing"
                                } else {
                                    "queued"
                                }),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "completed",
            Json::Arr(done.iter().map(|b| batch(b, interval)).collect()),
        ),
        (
            "totals",
            Json::Obj(vec![
                ("batches", Json::Int(totals.batches as i128)),
                ("failed_batches", Json::Int(totals.failed_batches as i128)),
                ("records", Json::Int(totals.records as i128)),
            ]),
        ),
    ])
}

/// `/api/v1/receivers`: every source, receivers with their rates, buffered blocks,
/// received records and errors.
pub(crate) fn receivers(driver: &Driver) -> Json {
    let interval = driver.config.interval();
    let recent = driver.run.last_batch_infos(RATE_BATCHES);
    let totals = driver.run.totals();
    let sources = driver.sources.statuses();
    let list = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let cut = |b: &BatchInfo| b.source_records.get(i).copied().unwrap_or(0);
            let sum: usize = recent.iter().map(cut).sum();
            let avg = if recent.is_empty() {
                0.0
            } else {
                rate(sum, interval) / recent.len() as f64
            };
            Json::Obj(vec![
                ("id", Json::Int(i as i128)),
                ("source", Json::str(s.description.clone())),
                ("receiver", Json::Bool(s.receiver)),
                ("active", Json::Bool(s.error.is_none())),
                ("avg_rate", Json::Num(avg)),
                (
                    "last_batch_records",
                    Json::opt(recent.last(), |b| Json::Int(cut(b) as i128)),
                ),
                (
                    "records_total",
                    Json::Int(totals.source_records.get(i).copied().unwrap_or(0) as i128),
                ),
                ("received_records", Json::Int(s.received as i128)),
                ("buffered_blocks", Json::Int(s.buffered_blocks as i128)),
                ("rate_limit", Json::Int(s.rate_limit as i128)),
                ("error", Json::opt(s.error.clone(), Json::Str)),
            ])
        })
        .collect();
    Json::Obj(vec![
        ("receivers", Json::Arr(list)),
        (
            "malformed_records",
            Json::Int(driver.sources.malformed_count() as i128),
        ),
    ])
}

/// `/api/v1/plan`: every pipeline's plan as text and as the graph `stream!` made
/// (`null` for a job registered without one).
pub(crate) fn plan(driver: &Driver) -> Json {
    let pipelines = driver
        .jobs
        .plans()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Json::Obj(vec![
                ("pipeline", Json::Int(i as i128 + 1)),
                ("explain", Json::Str(p.explain)),
                ("graph", Json::Raw(p.graph)),
            ])
        })
        .collect();
    Json::Obj(vec![("pipelines", Json::Arr(pipelines))])
}

/// `/api/v1/status`: the context's state and settings, uptime, checkpoints and
/// recovery.
pub(crate) fn status(driver: &Driver) -> Json {
    let c = &driver.config;
    let ((created, _), started) = driver.run.created_started();
    let uptime = started.map_or(created, |(i, _)| i).elapsed();
    let totals = driver.run.totals();
    let cp = driver.durability.status();
    let last = driver.run.last_batch_info();
    Json::Obj(vec![
        ("state", Json::str(driver.run.state_name())),
        ("failure", Json::opt(driver.run.failure_text(), Json::Str)),
        ("now_ms", Json::epoch_ms(SystemTime::now())),
        (
            "started_at_ms",
            Json::opt(started, |(_, t)| Json::epoch_ms(t)),
        ),
        ("uptime_seconds", Json::Num(uptime.as_secs_f64())),
        ("batch_interval_ms", Json::Int(c.interval_ms() as i128)),
        ("parallelism", Json::Int(c.parallelism() as i128)),
        ("manual_clock", Json::Bool(c.is_manual())),
        ("backpressure", Json::Bool(c.backpressure())),
        (
            "last_batch_time_ms",
            Json::Int(driver.run.last_time().millis() as i128),
        ),
        ("batches_completed", Json::Int(totals.batches as i128)),
        ("batches_failed", Json::Int(totals.failed_batches as i128)),
        (
            "batches_active",
            Json::Int(driver.run.active_batches().len() as i128),
        ),
        ("records_total", Json::Int(totals.records as i128)),
        (
            "last_batch",
            Json::opt(last.as_ref(), |b| batch(b, c.interval())),
        ),
        (
            "checkpoint",
            Json::Obj(vec![
                (
                    "dir",
                    Json::opt(driver.durability.dir(), |d| {
                        Json::str(d.display().to_string())
                    }),
                ),
                ("interval_ms", Json::ms(c.checkpoint_interval())),
                ("write_ahead_log", Json::Bool(c.write_ahead_log())),
                ("written", Json::Int(cp.written as i128)),
                (
                    "last_batch_time_ms",
                    Json::opt(cp.last, |(t, _)| Json::Int(t.millis() as i128)),
                ),
                (
                    "last_written_at_ms",
                    Json::opt(cp.last, |(_, w)| Json::epoch_ms(w)),
                ),
            ]),
        ),
        (
            "recovery",
            Json::Obj(vec![
                ("recovered", Json::Bool(cp.recovered_from.is_some())),
                (
                    "from_batch_time_ms",
                    Json::opt(cp.recovered_from, |t| Json::Int(t.millis() as i128)),
                ),
                ("recomputed_batches", Json::Int(cp.recomputed as i128)),
                ("outputs_already_done", Json::Int(cp.outputs_done as i128)),
                ("skipped_snapshots", Json::Int(cp.skipped as i128)),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_escaped_and_nested() {
        let v = Json::Obj(vec![
            ("a\"b", Json::str("line\n\t\u{1}\\ \u{2028} é")),
            (
                "list",
                Json::Arr(vec![
                    Json::Null,
                    Json::Bool(true),
                    Json::Int(-3),
                    Json::Num(1.5),
                    Json::Num(f64::NAN),
                    Json::Raw("{\"x\":1}".into()),
                ]),
            ),
            ("ms", Json::ms(Duration::from_micros(1500))),
        ]);
        assert_eq!(
            v.text(),
            r#"{"a\"b":"line\n\t\u0001\\ \u2028 é","list":[null,true,-3,1.5,null,{"x":1}],"ms":1.5}"#
        );
    }
}
