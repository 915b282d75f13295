//! [`Builder`]: the settings of a [`StreamingContext`](crate::StreamingContext).

use crate::context::StreamingContext;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long `text_file_stream` remembers the files it selected by default (Spark's
/// `spark.streaming.fileStream.minRememberDuration`).
pub const DEFAULT_FILE_REMEMBER: Duration = Duration::from_secs(60);

/// The longest batch interval, in milliseconds: ten intervals (the default checkpoint
/// interval, the bound of a graceful stop) must still fit in 64-bit milliseconds.
pub(crate) const MAX_BATCH_INTERVAL_MS: u64 = u64::MAX / 10;

/// Builds a [`StreamingContext`]; see [`StreamingContext::builder`].
#[derive(Clone, Debug, Default)]
pub struct Builder {
    batch_interval: Option<Duration>,
    parallelism: Option<usize>,
    checkpoint_dir: Option<PathBuf>,
    checkpoint_interval: Option<Duration>,
    write_ahead_log: bool,
    catch_up_in_one_batch: bool,
    file_remember: Option<Duration>,
    max_rate: u64,
    backpressure: bool,
    manual: bool,
    max_line_length: Option<usize>,
    max_clients: Option<usize>,
}

impl Builder {
    /// The batch interval (required).
    pub fn batch_interval(mut self, d: Duration) -> Self {
        self.batch_interval = Some(d);
        self
    }

    /// Worker threads and hash partitions (default: all cores).
    pub fn parallelism(mut self, n: usize) -> Self {
        self.parallelism = Some(n);
        self
    }

    /// Where stateful operators keep checkpoints.
    pub fn checkpoint_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.checkpoint_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// How often stateful operators are checkpointed (a multiple of the batch interval;
    /// default 10 batch intervals, as Spark's).
    pub fn checkpoint_interval(mut self, d: Duration) -> Self {
        self.checkpoint_interval = Some(d);
        self
    }

    /// Receivers write what they receive to a write-ahead log in the checkpoint
    /// directory before it enters a batch, so received lines survive a crash (Spark's
    /// `spark.streaming.receiver.writeAheadLog.enable`; off by default, as there).
    pub fn write_ahead_log(mut self, on: bool) -> Self {
        self.write_ahead_log = on;
        self
    }

    /// How long `text_file_stream` remembers the files it selected (default 60 s, Spark's
    /// `spark.streaming.fileStream.minRememberDuration`): a file is new if its
    /// modification time is within this window and it was not selected before. Files
    /// older than the window are ignored, so a job stopped for longer misses files that
    /// arrived early in its absence, as in Spark.
    pub fn file_remember_duration(mut self, d: Duration) -> Self {
        self.file_remember = Some(d);
        self
    }

    /// A job resumed from its checkpoint runs the batch times it missed while it was down
    /// as one batch, at the newest of them, instead of one batch per missed time (Spark's
    /// way, and the default): a job down for an hour with 100 ms batches then runs one
    /// catch-up batch, not 36,000, and writes one output directory for them. The logged
    /// batches are still recomputed one by one first. Only for pipelines without windows
    /// (a window's content depends on batch times): `start()` refuses others.
    pub fn catch_up_in_one_batch(mut self, on: bool) -> Self {
        self.catch_up_in_one_batch = on;
        self
    }

    /// At most `records_per_second` per receiver (Spark's
    /// `spark.streaming.receiver.maxRate`; default unlimited).
    pub fn receiver_max_rate(mut self, records_per_second: u64) -> Self {
        self.max_rate = records_per_second;
        self
    }

    /// Adaptive backpressure (Spark's `spark.streaming.backpressure.enabled`): after each
    /// batch a PID controller (Spark's defaults: proportional 1.0, integral 0.2,
    /// derivative 0, minimum 100 records/s) sets the receivers' rate from the processing
    /// rate and the scheduling delay, capped by [`receiver_max_rate`](Self::receiver_max_rate).
    pub fn backpressure(mut self, on: bool) -> Self {
        self.backpressure = on;
        self
    }

    /// The longest line a socket receiver keeps, in bytes not counting its `\r\n`
    /// (default 1 MiB). A longer line is counted as malformed, as a line that is not
    /// UTF-8 is (see [`StreamingContext::malformed_records`]), and skipped up to its
    /// newline without being buffered, so a client sending bytes without a newline
    /// cannot grow memory without bound. Zero is a configuration error.
    pub fn max_line_length(mut self, bytes: usize) -> Self {
        self.max_line_length = Some(bytes);
        self
    }

    /// The most clients a `socket_listen_stream` serves at once (default 16,384): one
    /// more is accepted and closed at once, with a warning (at most one a second).
    /// All clients of a listening source are read by its one receiver thread, so an
    /// idle client costs a socket and a few bytes. Zero is a configuration error.
    pub fn max_clients(mut self, n: usize) -> Self {
        self.max_clients = Some(n);
        self
    }

    /// A manual clock: batches run only when [`StreamingContext::advance`] says so.
    pub fn manual_clock(mut self) -> Self {
        self.manual = true;
        self
    }

    /// The context, or an error for an invalid configuration.
    pub fn build(self) -> Result<StreamingContext> {
        let interval = self
            .batch_interval
            .ok_or_else(|| Error::Config("the batch interval is not set".into()))?;
        if self.max_line_length == Some(0) {
            return Err(Error::Config(
                "the maximum line length must be at least 1 byte".into(),
            ));
        }
        if self.max_clients == Some(0) {
            return Err(Error::Config(
                "the maximum number of clients must be at least 1".into(),
            ));
        }
        let mut ctx =
            StreamingContext::with(interval, self.parallelism, self.checkpoint_dir, self.manual);
        if let Some(e) = &ctx.inner.config_error {
            return Err(Error::Config(e.clone()));
        }
        if let Some(every) = self.checkpoint_interval {
            let (e, i) = (every.as_millis(), interval.as_millis());
            if e > u128::from(u64::MAX) {
                return Err(Error::Config(format!(
                    "the checkpoint interval ({every:?}) is too long: at most {} ms",
                    u64::MAX
                )));
            }
            if e == 0 || i == 0 || e % i != 0 {
                return Err(Error::Config(format!(
                    "the checkpoint interval ({every:?}) must be a positive multiple of the batch interval ({interval:?})"
                )));
            }
            match Arc::get_mut(&mut ctx.inner) {
                Some(inner) => inner.checkpoint_interval = Some(every),
                None => return Err(Error::Config("the context is already shared".into())),
            }
        }
        if let Some(inner) = Arc::get_mut(&mut ctx.inner) {
            inner.max_rate = self.max_rate;
            inner.catch_up_in_one_batch = self.catch_up_in_one_batch;
            if let Some(d) = self.file_remember {
                inner.file_remember = d;
            }
            if let Some(n) = self.max_line_length {
                inner.receiver_limits.max_line_length = n;
            }
            if let Some(n) = self.max_clients {
                inner.receiver_limits.max_clients = n;
            }
            if self.backpressure {
                inner.backpressure = Some(Mutex::new(crate::backpressure::PidRateEstimator::new(
                    interval,
                )));
            }
        }
        if self.write_ahead_log {
            if ctx.inner.checkpoint_dir().is_none() {
                return Err(Error::Config(
                    "the write-ahead log needs a checkpoint directory".into(),
                ));
            }
            if let Some(inner) = Arc::get_mut(&mut ctx.inner) {
                inner.write_ahead_log = true;
            }
        }
        match &ctx.inner.config_error {
            Some(e) => Err(Error::Config(e.clone())),
            None => Ok(ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_error(b: Builder) -> String {
        match b.build() {
            Err(Error::Config(m)) => m,
            Err(e) => panic!("not a configuration error: {e}"),
            Ok(_) => panic!("built"),
        }
    }

    #[test]
    fn intervals_too_long_are_configuration_errors() {
        let b = || StreamingContext::builder().parallelism(1).manual_clock();
        let m = config_error(b().batch_interval(Duration::from_secs(u64::MAX)));
        assert!(
            m.contains("batch interval") && m.contains("too long"),
            "{m}"
        );
        // Ten intervals would not fit in 64-bit milliseconds.
        let just_over = Duration::from_millis(MAX_BATCH_INTERVAL_MS + 1);
        config_error(b().batch_interval(just_over));
        let max = Duration::from_millis(MAX_BATCH_INTERVAL_MS);
        assert!(b().batch_interval(max).build().is_ok());
        assert!((max * 10).as_millis() <= u128::from(u64::MAX));
        let m = config_error(
            b().batch_interval(Duration::from_secs(1))
                .checkpoint_interval(Duration::from_secs(u64::MAX)),
        );
        assert!(
            m.contains("checkpoint interval") && m.contains("too long"),
            "{m}"
        );
    }

    #[test]
    fn new_reports_an_interval_too_long_at_start() {
        let ctx = StreamingContext::new(Duration::from_secs(u64::MAX));
        assert!(matches!(ctx.start(), Err(Error::Config(_))));
    }
}
