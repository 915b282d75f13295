//! [`Config`]: a context's settings, checked once when it is built and fixed after.

use crate::sources::receiver::ReceiverLimits;
use crate::store::Location;
use crate::{Error, Executor, Result};
use std::path::PathBuf;
use std::time::Duration;

/// How long `text_file_stream` remembers the files it selected by default (Spark's
/// `spark.streaming.fileStream.minRememberDuration`).
pub(crate) const DEFAULT_FILE_REMEMBER: Duration = Duration::from_secs(60);

/// The longest batch interval, in milliseconds: ten intervals (the default checkpoint
/// interval, the bound of a graceful stop) must still fit in 64-bit milliseconds.
pub(crate) const MAX_BATCH_INTERVAL_MS: u64 = u64::MAX / 10;

/// The refusal of a write-ahead log in an object store checkpoint directory `dir`.
pub(crate) fn wal_in_object_store(dir: &std::path::Path) -> Error {
    Error::Config(format!(
        "the write-ahead log cannot be kept in an object store ({}): it appends and syncs \
         every received block, which objects cannot do; use a local checkpoint directory \
         with write_ahead_log(true), or a replayable source",
        dir.display()
    ))
}

/// What a [`Builder`](crate::Builder) was told, before it is checked.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) batch_interval: Option<Duration>,
    pub(crate) parallelism: Option<usize>,
    pub(crate) checkpoint_dir: Option<PathBuf>,
    pub(crate) checkpoint_interval: Option<Duration>,
    /// A checkpoint every this many batches (resolved against the batch interval).
    pub(crate) checkpoint_every: Option<u32>,
    pub(crate) write_ahead_log: bool,
    pub(crate) catch_up_in_one_batch: bool,
    pub(crate) file_remember: Option<Duration>,
    pub(crate) max_rate: u64,
    pub(crate) backpressure: bool,
    pub(crate) manual: bool,
    pub(crate) max_line_length: Option<usize>,
    pub(crate) max_clients: Option<usize>,
    pub(crate) ui: Option<String>,
    pub(crate) status_line: bool,
}

/// The settings of a context. Nothing changes them once the context is built.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    interval: Duration,
    parallelism: usize,
    manual: bool,
    /// Why the settings cannot run, reported by `start()` (a context made with
    /// `StreamingContext::new` is not checked until then).
    error: Option<String>,
    checkpoint_interval: Option<Duration>,
    write_ahead_log: bool,
    /// A recovered job runs the batch times it missed while down as one batch.
    catch_up_in_one_batch: bool,
    /// How long `text_file_stream` remembers the files it selected.
    file_remember: Duration,
    max_rate: u64,
    /// The builder's `max_line_length` and `max_clients`, for receiver sources.
    receiver_limits: ReceiverLimits,
    backpressure: bool,
    /// Keep a status line on stderr while running, when stdout is a terminal.
    status_line: bool,
}

fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Config {
    /// The defaults for `interval` on `parallelism` threads (default: all cores); an
    /// invalid interval or parallelism is kept as the configuration's error.
    pub(crate) fn new(interval: Duration, parallelism: Option<usize>, manual: bool) -> Config {
        let parallelism = parallelism.unwrap_or_else(all_cores);
        let error = if interval.is_zero() || interval.subsec_nanos() % 1_000_000 != 0 {
            Some(format!(
                "the batch interval must be a positive whole number of milliseconds, not {interval:?}"
            ))
        } else if interval.as_millis() > u128::from(MAX_BATCH_INTERVAL_MS) {
            Some(format!(
                "the batch interval ({interval:?}) is too long: at most {MAX_BATCH_INTERVAL_MS} ms, so that 10 intervals fit in 64-bit milliseconds"
            ))
        } else if parallelism == 0 {
            Some("parallelism must be at least 1".to_string())
        } else {
            None
        };
        Config {
            interval,
            parallelism,
            manual,
            error,
            checkpoint_interval: None,
            write_ahead_log: false,
            catch_up_in_one_batch: false,
            file_remember: DEFAULT_FILE_REMEMBER,
            max_rate: 0,
            receiver_limits: ReceiverLimits::default(),
            backpressure: false,
            status_line: false,
        }
    }

    /// The executor these settings ask for, unless they are invalid; a pool that cannot
    /// start becomes the configuration's error. On a cluster of `processes` processes a
    /// process runs only the partitions it owns (partition `p` on process `p % N`), so
    /// its pool has as many threads as the most any process owns (`W` of `--workers W`
    /// when the parallelism is `N × W`), not one per partition.
    pub(crate) fn start_executor(&mut self, processes: usize) -> Option<Executor> {
        if self.error.is_some() {
            return None;
        }
        let threads = self.parallelism.div_ceil(processes.max(1));
        match Executor::with_threads(self.parallelism, threads) {
            Ok(e) => Some(e),
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }

    /// Checks a builder's settings, in the order their errors have always been reported
    /// (the driver made of it starts the executor).
    pub(crate) fn build(s: &Settings) -> Result<Config> {
        let interval = s
            .batch_interval
            .ok_or_else(|| Error::Config("the batch interval is not set".into()))?;
        if s.max_line_length == Some(0) {
            return Err(Error::Config(
                "the maximum line length must be at least 1 byte".into(),
            ));
        }
        if s.max_clients == Some(0) {
            return Err(Error::Config(
                "the maximum number of clients must be at least 1".into(),
            ));
        }
        let mut config = Config::new(interval, s.parallelism, s.manual);
        config.check()?;
        let every_batches = match s.checkpoint_every {
            Some(n) => Some(interval.checked_mul(n).ok_or_else(|| {
                Error::Config(format!(
                    "a checkpoint every {n} batches of {interval:?} is too long"
                ))
            })?),
            None => None,
        };
        if let Some(every) = every_batches.or(s.checkpoint_interval) {
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
            config.checkpoint_interval = Some(every);
        }
        config.max_rate = s.max_rate;
        config.catch_up_in_one_batch = s.catch_up_in_one_batch;
        if let Some(d) = s.file_remember {
            config.file_remember = d;
        }
        if let Some(n) = s.max_line_length {
            config.receiver_limits.max_line_length = n;
        }
        if let Some(n) = s.max_clients {
            config.receiver_limits.max_clients = n;
        }
        config.backpressure = s.backpressure;
        config.status_line = s.status_line;
        if s.write_ahead_log {
            match &s.checkpoint_dir {
                None => {
                    return Err(Error::Config(
                        "the write-ahead log needs a checkpoint directory".into(),
                    ));
                }
                Some(dir) if Location::is_object_store(dir) => {
                    return Err(wal_in_object_store(dir));
                }
                Some(_) => {}
            }
            config.write_ahead_log = true;
        }
        Ok(config)
    }

    /// The configuration's error, if it cannot run.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.error {
            Some(e) => Err(Error::Config(e.clone())),
            None => Ok(()),
        }
    }

    /// Why the settings cannot run, if they cannot.
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The batch interval.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// The batch interval in milliseconds.
    pub(crate) fn interval_ms(&self) -> u64 {
        self.interval.as_millis() as u64
    }

    /// Worker threads and hash partitions.
    pub(crate) fn parallelism(&self) -> usize {
        self.parallelism
    }

    /// Whether batches run on a manual clock.
    pub(crate) fn is_manual(&self) -> bool {
        self.manual
    }

    /// How often state is checkpointed (default: every 10 batch intervals).
    pub(crate) fn checkpoint_interval(&self) -> Duration {
        self.checkpoint_interval.unwrap_or(self.interval * 10)
    }

    /// Whether receivers log what they receive before it enters a batch.
    pub(crate) fn write_ahead_log(&self) -> bool {
        self.write_ahead_log
    }

    /// Whether a recovered job runs the batch times it missed as one batch.
    pub(crate) fn catch_up_in_one_batch(&self) -> bool {
        self.catch_up_in_one_batch
    }

    /// How long `text_file_stream` remembers the files it selected.
    pub(crate) fn file_remember(&self) -> Duration {
        self.file_remember
    }

    /// The most records per second of each receiver (0: unlimited).
    pub(crate) fn max_rate(&self) -> u64 {
        self.max_rate
    }

    /// Line length and client limits of receiver sources.
    pub(crate) fn receiver_limits(&self) -> ReceiverLimits {
        self.receiver_limits
    }

    /// Whether receivers' rates adapt to the processing rate.
    pub(crate) fn backpressure(&self) -> bool {
        self.backpressure
    }

    /// Whether a status line is kept on stderr while running (on a terminal).
    pub(crate) fn status_line(&self) -> bool {
        self.status_line
    }
}
