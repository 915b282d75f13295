//! [`Builder`]: the settings of a [`StreamingContext`](crate::StreamingContext).

use super::StreamingContext;
use crate::driver::Driver;
use crate::driver::config::{Config, Settings};
use crate::{Error, Result};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

/// Builds a [`StreamingContext`]; see [`StreamingContext::builder`].
#[derive(Clone, Debug, Default)]
pub struct Builder {
    settings: Settings,
    #[cfg(feature = "cluster")]
    cluster: Option<crate::cluster::ClusterSpec>,
}

impl Builder {
    /// Runs the context as process `spec.process` of a cluster (timely's
    /// `--processes N --process I --hostfile FILE`): every process runs the same job
    /// on the partitions it owns; see DISTRIBUTED.md. A process started by
    /// `--master local-cluster[N]` (or under `RILL_MASTER` in a test) finds its place
    /// in the environment without this.
    #[cfg(feature = "cluster")]
    pub fn cluster(mut self, spec: crate::cluster::ClusterSpec) -> Self {
        self.cluster = Some(spec);
        self
    }

    /// The batch interval (required).
    pub fn batch_interval(mut self, d: Duration) -> Self {
        self.settings.batch_interval = Some(d);
        self
    }

    /// Worker threads and hash partitions (default: all cores).
    pub fn parallelism(mut self, n: usize) -> Self {
        self.settings.parallelism = Some(n);
        self
    }

    /// Where stateful operators keep checkpoints: a local directory (or a `file://` URL)
    /// or, with the `object-store` feature, an `s3://bucket/prefix` URL, where snapshots
    /// and the batch log are objects made atomic by conditional puts (see the README's
    /// "Object stores"). An object store cannot hold the write-ahead log.
    pub fn checkpoint_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.settings.checkpoint_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// How often stateful operators are checkpointed (a multiple of the batch interval;
    /// default 10 batch intervals, as Spark's).
    pub fn checkpoint_interval(mut self, d: Duration) -> Self {
        self.settings.checkpoint_interval = Some(d);
        self
    }

    /// A checkpoint every `batches` batches: the checkpoint interval as a number of batch
    /// intervals (Spark advises 5 to 10). Takes precedence over
    /// [`checkpoint_interval`](Self::checkpoint_interval).
    pub fn checkpoint_every(mut self, batches: u32) -> Self {
        self.settings.checkpoint_every = Some(batches);
        self
    }

    /// Receivers write what they receive to a write-ahead log in the checkpoint
    /// directory before it enters a batch, so received lines survive a crash (Spark's
    /// `spark.streaming.receiver.writeAheadLog.enable`; off by default, as there).
    /// Refused with a checkpoint directory in an object store: the log appends and
    /// syncs every block, which objects cannot do.
    pub fn write_ahead_log(mut self, on: bool) -> Self {
        self.settings.write_ahead_log = on;
        self
    }

    /// How long `text_file_stream` remembers the files it selected (default 60 s, Spark's
    /// `spark.streaming.fileStream.minRememberDuration`): a file is new if its
    /// modification time is within this window and it was not selected before. Files
    /// older than the window are ignored, so a job stopped for longer misses files that
    /// arrived early in its absence, as in Spark.
    pub fn file_remember_duration(mut self, d: Duration) -> Self {
        self.settings.file_remember = Some(d);
        self
    }

    /// A job resumed from its checkpoint runs the batch times it missed while it was down
    /// as one batch, at the newest of them, instead of one batch per missed time (Spark's
    /// way, and the default): a job down for an hour with 100 ms batches then runs one
    /// catch-up batch, not 36,000, and writes one output directory for them. The logged
    /// batches are still recomputed one by one first. Only for pipelines without windows
    /// (a window's content depends on batch times): `start()` refuses others.
    pub fn catch_up_in_one_batch(mut self, on: bool) -> Self {
        self.settings.catch_up_in_one_batch = on;
        self
    }

    /// At most `records_per_second` per receiver (Spark's
    /// `spark.streaming.receiver.maxRate`; default unlimited).
    pub fn receiver_max_rate(mut self, records_per_second: u64) -> Self {
        self.settings.max_rate = records_per_second;
        self
    }

    /// Adaptive backpressure (Spark's `spark.streaming.backpressure.enabled`): after each
    /// batch a PID controller (Spark's defaults: proportional 1.0, integral 0.2,
    /// derivative 0, minimum 100 records/s) sets the receivers' rate from the processing
    /// rate and the scheduling delay, capped by [`receiver_max_rate`](Self::receiver_max_rate).
    pub fn backpressure(mut self, on: bool) -> Self {
        self.settings.backpressure = on;
        self
    }

    /// The longest line a socket receiver keeps, in bytes not counting its `\r\n`
    /// (default 1 MiB). A longer line is counted as malformed, as a line that is not
    /// UTF-8 is (see [`StreamingContext::malformed_records`]), and skipped up to its
    /// newline without being buffered, so a client sending bytes without a newline
    /// cannot grow memory without bound. Zero is a configuration error.
    pub fn max_line_length(mut self, bytes: usize) -> Self {
        self.settings.max_line_length = Some(bytes);
        self
    }

    /// The most clients a `socket_listen_stream` serves at once (default 16,384): one
    /// more is accepted and closed at once, with a warning (at most one a second).
    /// All clients of a listening source are read by its one receiver thread, so an
    /// idle client costs a socket and a few bytes. Zero is a configuration error.
    pub fn max_clients(mut self, n: usize) -> Self {
        self.settings.max_clients = Some(n);
        self
    }

    /// Serves the streaming UI at `addr` (`"127.0.0.1:4040"`; port 0 picks a free port,
    /// see [`StreamingContext::ui_addr`]) from the moment the context is built until it
    /// stops: the page at `/`, JSON under `/api/v1/` (`batches`, `receivers`, `plan`,
    /// `status`) and Prometheus metrics at `/metrics`. The server is read-only and runs
    /// on threads of its own; the metrics it shows are recorded for every batch anyway.
    /// An address that does not resolve or cannot be bound fails [`build`](Self::build).
    pub fn ui(mut self, addr: impl Into<String>) -> Self {
        self.settings.ui = Some(addr.into());
        self
    }

    /// Keeps a status line on stderr while the context runs: batches done, input rate,
    /// the last batch's processing time and scheduling delay, rewritten in place about
    /// once a second (see [`StreamingContext::status_line`]). Only when stdout is a
    /// terminal; otherwise nothing is written. Off by default.
    pub fn status_line(mut self, on: bool) -> Self {
        self.settings.status_line = on;
        self
    }

    /// A manual clock: batches run only when [`StreamingContext::advance`] says so.
    pub fn manual_clock(mut self) -> Self {
        self.settings.manual = true;
        self
    }

    /// The context, or an error for an invalid configuration.
    pub fn build(self) -> Result<StreamingContext> {
        let ui = match &self.settings.ui {
            Some(addr) => Some(resolve(addr)?),
            None => None,
        };
        let config = Config::build(&self.settings)?;
        let driver = Driver::new(
            config,
            self.settings.checkpoint_dir,
            #[cfg(feature = "cluster")]
            self.cluster,
        );
        driver.exec()?;
        let mut ctx = StreamingContext::from_driver(driver);
        if let Some(addr) = ui {
            ctx.ui_addr = Some(crate::ui::start(&ctx.driver, addr)?);
        }
        Ok(ctx)
    }
}

/// The first address `addr` resolves to, or a configuration error.
fn resolve(addr: &str) -> Result<SocketAddr> {
    let bad = |why: String| Error::Config(format!("the UI address `{addr}` {why}"));
    addr.to_socket_addrs()
        .map_err(|e| bad(format!("does not resolve: {e}")))?
        .next()
        .ok_or_else(|| bad("resolves to no address".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::config::MAX_BATCH_INTERVAL_MS;

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

    #[cfg(feature = "cluster")]
    #[test]
    fn a_cluster_process_runs_a_thread_per_partition_it_owns() {
        let threads = |processes: usize, parallelism: usize| {
            let spec = crate::cluster::ClusterSpec {
                processes,
                process: 0,
                addresses: (0..processes)
                    .map(|i| format!("127.0.0.1:{}", 1 + i))
                    .collect(),
                workers: 1,
            };
            let ctx = StreamingContext::builder()
                .batch_interval(Duration::from_secs(1))
                .parallelism(parallelism)
                .manual_clock()
                .cluster(spec)
                .build()
                .unwrap();
            let exec = ctx.driver.exec().unwrap();
            (exec.parallelism(), exec.threads())
        };
        assert_eq!(threads(2, 4), (4, 2), "local-cluster[2,2]");
        assert_eq!(threads(3, 4), (4, 2), "process 0 owns partitions 0 and 3");
        assert_eq!(threads(1, 3), (3, 3), "one process owns them all");
        assert_eq!(threads(4, 2), (2, 1), "more processes than partitions");
    }
}
