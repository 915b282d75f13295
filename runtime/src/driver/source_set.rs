//! [`SourceSet`]: the sources of a context, in definition order, and what is done to all
//! of them at once: start and stop, cut a batch, recut a logged one, report where they
//! are for a checkpoint, and adapt the receivers' rate (backpressure).

use crate::backpressure::PidRateEstimator;
use crate::checkpoint::BatchRecord;
use crate::metrics::BatchInfo;
use crate::sources::{SourceControl, SourceStats};
use crate::sync::lock;
use crate::{Error, Result, Time};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Source positions: `(source id, encoded position)` of every source.
pub(crate) type Positions = Vec<(String, Vec<u8>)>;

/// The id of the `i`-th source in a checkpoint and the batch log.
fn source_id(i: usize) -> String {
    format!("source{i}")
}

/// What source `id` holds in a list of `(source id, bytes)`.
fn find<'a>(list: &'a [(String, Vec<u8>)], id: &str) -> Option<&'a [u8]> {
    list.iter()
        .find(|(s, _)| s == id)
        .map(|(_, b)| b.as_slice())
}

/// What a source is doing, for the streaming UI.
#[derive(Clone, Debug)]
pub(crate) struct SourceStatus {
    /// What the source is (its `describe()`).
    pub(crate) description: String,
    /// Whether it is a receiver (the rest is for receivers only).
    pub(crate) receiver: bool,
    /// Blocks received and not yet cut into a batch.
    pub(crate) buffered_blocks: usize,
    /// Records received since it started.
    pub(crate) received: u64,
    /// Its rate limit in records per second (0: unlimited).
    pub(crate) rate_limit: u64,
    /// Its failure, if it had one.
    pub(crate) error: Option<String>,
}

/// The sources of a context.
pub(crate) struct SourceSet {
    sources: Mutex<Vec<Arc<dyn SourceControl>>>,
    /// Whether each source is cut by every process of a cluster (in definition order).
    replicated: Mutex<Vec<bool>>,
    /// Counters every source shares with the context (malformed and late records).
    stats: Arc<SourceStats>,
    /// Adaptive backpressure: the controller that sets the receivers' rate.
    backpressure: Option<Mutex<PidRateEstimator>>,
}

impl SourceSet {
    /// No sources yet; a rate controller for batches of `interval` if `backpressure`.
    pub(crate) fn new(backpressure: bool, interval: std::time::Duration) -> SourceSet {
        SourceSet {
            sources: Mutex::new(Vec::new()),
            replicated: Mutex::new(Vec::new()),
            stats: Arc::default(),
            backpressure: backpressure.then(|| Mutex::new(PidRateEstimator::new(interval))),
        }
    }

    /// The sources, in definition order (a copy, so no lock is held while they work).
    fn all(&self) -> Vec<Arc<dyn SourceControl>> {
        lock(&self.sources).clone()
    }

    /// Adds a source defined by a pipeline; `replicated`: every process of a cluster
    /// cuts it.
    pub(crate) fn add(&self, src: Arc<dyn SourceControl>, replicated: bool) {
        lock(&self.sources).push(src);
        lock(&self.replicated).push(replicated);
    }

    /// On a process of a cluster other than process 0: the sources process 0 runs
    /// (receivers, file listings) are left out here, each replaced by a source that
    /// does nothing, so the others keep their numbers (and logged ids).
    #[cfg(feature = "cluster")]
    pub(crate) fn follow(&self) {
        let replicated = lock(&self.replicated).clone();
        for (s, r) in lock(&self.sources).iter_mut().zip(replicated) {
            if !r {
                *s = Arc::new(OnProcessZero(s.describe()));
            }
        }
    }

    /// The counters a new source shares with the context.
    pub(crate) fn stats(&self) -> Arc<SourceStats> {
        self.stats.clone()
    }

    /// Input lines skipped because they were malformed.
    pub(crate) fn malformed_count(&self) -> u64 {
        self.stats.malformed_count()
    }

    /// Records counted when their batch ran (file lines) since the last call.
    pub(crate) fn take_late_records(&self) -> usize {
        self.stats.take_late_records()
    }

    /// Addresses of the listening sources, in definition order.
    pub(crate) fn local_addrs(&self) -> Vec<SocketAddr> {
        self.all().iter().filter_map(|s| s.local_addr()).collect()
    }

    // --- start and stop ---

    /// Receivers log what they receive to `dir/wal-source<i>.log` before it enters a
    /// batch (creating `dir`).
    pub(crate) fn enable_wal(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                format!("cannot create checkpoint directory {}", dir.display()),
                e,
            )
        })?;
        for (i, s) in self.all().iter().enumerate() {
            s.enable_wal(&dir.join(format!("wal-source{i}.log")))?;
        }
        Ok(())
    }

    /// Limits every receiver to `rate` records per second (0: unlimited).
    pub(crate) fn set_rate(&self, rate: u64) {
        for s in &self.all() {
            s.set_rate(rate);
        }
    }

    /// Starts every source; if one fails, those started before it stop again.
    pub(crate) fn start(&self) -> Result<()> {
        let sources = self.all();
        for (i, s) in sources.iter().enumerate() {
            if let Err(e) = s.start() {
                for started in &sources[..i] {
                    started.stop();
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Stops every source.
    pub(crate) fn stop(&self) {
        for s in &self.all() {
            s.stop();
        }
    }

    /// Stops every source, each even if stopping another panicked; `failed` hears of
    /// each panic.
    pub(crate) fn stop_each(&self, mut failed: impl FnMut(Error)) {
        for s in &self.all() {
            if let Err(e) = crate::error::catch_thread_panic(|| s.stop()) {
                failed(e);
            }
        }
    }

    /// Stops the receivers (a graceful stop: what they hold is still cut).
    pub(crate) fn stop_receivers(&self) {
        for s in self.all().iter().filter(|s| s.is_receiver()) {
            s.stop();
        }
    }

    /// What every source is doing, in definition order.
    pub(crate) fn statuses(&self) -> Vec<SourceStatus> {
        self.all()
            .iter()
            .map(|s| {
                let r = s.receiving();
                SourceStatus {
                    description: s.describe(),
                    receiver: r.is_some(),
                    buffered_blocks: s.buffered(),
                    received: r.map_or(0, |r| r.received()),
                    rate_limit: r.map_or(0, |r| r.rate()),
                    error: r.and_then(|r| r.error_text()),
                }
            })
            .collect()
    }

    /// Records buffered in receivers and not yet cut into a batch.
    pub(crate) fn buffered(&self) -> usize {
        lock(&self.sources).iter().map(|s| s.buffered()).sum()
    }

    // --- cuts ---

    /// A failure of any source since it started (its thread panicked, its log could not
    /// be written).
    pub(crate) fn check(&self) -> Result<()> {
        for s in &self.all() {
            s.check()?;
        }
        Ok(())
    }

    /// Cuts every source's block for `time` (receivers only if `receivers`); the number
    /// of records each source cut, in definition order.
    pub(crate) fn cut(&self, time: Time, receivers: bool) -> Vec<usize> {
        self.all()
            .iter()
            .map(|s| {
                if receivers || !s.is_receiver() {
                    s.cut(time)
                } else {
                    0
                }
            })
            .collect()
    }

    /// Cuts every source again as logged in `record`; the number of records each source
    /// cut.
    pub(crate) fn replay(&self, record: &BatchRecord) -> Result<Vec<usize>> {
        let sources = self.all();
        let mut n = Vec::with_capacity(sources.len());
        for (i, src) in sources.iter().enumerate() {
            let rec = find(&record.sources, &source_id(i)).unwrap_or(&[]);
            n.push(src.replay(Time(record.time_ms), rec)?);
        }
        Ok(n)
    }

    /// What every source took into the batch at `time`, for the batch log.
    pub(crate) fn block_records(&self, time: Time) -> Result<Vec<(String, Vec<u8>)>> {
        let sources = self.all();
        let mut blocks = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            blocks.push((source_id(i), s.block_record(time)?));
        }
        Ok(blocks)
    }

    // --- positions ---

    /// Where every source is now (right after a cut).
    pub(crate) fn positions(&self) -> Result<Positions> {
        let sources = self.all();
        let mut positions = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            positions.push((source_id(i), s.position()?));
        }
        Ok(positions)
    }

    /// Moves every source a checkpoint knows back to its position there.
    pub(crate) fn restore_positions(&self, positions: &[(String, Vec<u8>)]) -> Result<()> {
        for (i, src) in self.all().iter().enumerate() {
            if let Some(pos) = find(positions, &source_id(i)) {
                src.restore_position(pos)?;
            }
        }
        Ok(())
    }

    /// A checkpoint holding `positions` is durable: sources may let go of what only
    /// older checkpoints needed.
    pub(crate) fn committed(&self, positions: &Positions) -> Result<()> {
        for (i, s) in self.all().iter().enumerate() {
            if let Some(pos) = find(positions, &source_id(i)) {
                s.committed(pos)?;
            }
        }
        Ok(())
    }

    // --- rates ---

    /// Backpressure: the receivers' next rate from the batch that just finished, capped
    /// by `max_rate` (0: no cap).
    pub(crate) fn adapt_rate(&self, info: &BatchInfo, max_rate: u64) {
        let Some(pid) = &self.backpressure else {
            return;
        };
        let rate = lock(pid).compute(
            info.time.millis(),
            info.records as u64,
            info.processing_time.as_secs_f64() * 1000.0,
            info.scheduling_delay.as_secs_f64() * 1000.0,
        );
        if let Some(rate) = rate {
            let sources = self.all();
            // The rate is shared by the receivers and the sources limited at the cut.
            let limited = sources
                .iter()
                .filter(|s| s.is_receiver() || s.limits_cut_rate())
                .count()
                .max(1) as f64;
            let share = (rate / limited).ceil() as u64;
            let each = if max_rate > 0 {
                share.min(max_rate)
            } else {
                share
            };
            tracing::debug!(rate = each, cut_rate = share, "backpressure: new rates");
            for s in &sources {
                s.set_rate(each);
                if s.limits_cut_rate() {
                    s.set_cut_rate(share);
                }
            }
        }
    }

    // --- completion ---

    /// Every output of the batch at `time` succeeded: each source hears of it, in
    /// definition order (a direct source commits its offsets to its broker).
    pub(crate) fn batch_completed(&self, time: Time) -> Result<()> {
        for s in &self.all() {
            s.batch_completed(time)?;
        }
        Ok(())
    }
}

/// A source that process 0 of a cluster runs, as another process sees it: its
/// records arrive from process 0 when a job takes them.
#[cfg(feature = "cluster")]
struct OnProcessZero(String);

#[cfg(feature = "cluster")]
impl SourceControl for OnProcessZero {
    fn describe(&self) -> String {
        format!("{} (on process 0)", self.0)
    }

    fn start(&self) -> Result<()> {
        Ok(())
    }
}
