//! Partitioned execution: the narrow interface generated stages run on.
//!
//! A batch's data is a [`Parts`]: one `Vec` per partition. Generated code hands a
//! per-partition closure to [`Batch::map_ref`] or [`Batch::map_owned`]; the local backend
//! runs the partitions in parallel on a rayon pool of `parallelism` threads. Generated
//! code never names rayon, so another backend can implement the same calls.

use crate::Time;
use crate::metrics::StageTime;
use rayon::prelude::*;
use std::time::Instant;

/// A batch's records, one `Vec` per partition.
pub type Parts<T> = Vec<Vec<T>>;

/// The local executor: a rayon pool with one thread per partition (on a cluster, one per
/// partition this process owns).
pub struct Executor {
    pool: rayon::ThreadPool,
    parallelism: usize,
    janitor: Option<crossbeam_channel::Sender<Box<dyn Send>>>,
    janitor_failure: std::sync::Arc<std::sync::Mutex<Option<crate::Error>>>,
}

impl Executor {
    /// A pool of `parallelism` threads.
    pub fn new(parallelism: usize) -> crate::Result<Executor> {
        Self::with_threads(parallelism, parallelism)
    }

    /// `parallelism` hash partitions run on a pool of `threads` threads (a cluster's
    /// process runs only the partitions it owns).
    pub fn with_threads(parallelism: usize, threads: usize) -> crate::Result<Executor> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("rill-worker-{i}"))
            .build()
            .map_err(|e| crate::Error::Config(format!("cannot start worker threads: {e}")))?;
        // Freeing a consumed batch (every line a `String`) is work the next batch need
        // not wait for: a janitor thread drops what the job hands it.
        // A value whose drop panics (a user type's `Drop`) is reported, and the janitor
        // goes on; the context fails after the batch (`take_failure`).
        let (tx, rx) = crossbeam_channel::unbounded::<Box<dyn Send>>();
        let janitor_failure = std::sync::Arc::new(std::sync::Mutex::new(None));
        let failure = janitor_failure.clone();
        let janitor = std::thread::Builder::new()
            .name("rill-janitor".into())
            .spawn(move || {
                for value in rx.iter() {
                    if let Err(e) = crate::error::catch_thread_panic(|| drop(value)) {
                        crate::sync::lock(&failure).get_or_insert(e);
                    }
                }
            })
            .ok()
            .map(|_| tx);
        Ok(Executor {
            pool,
            parallelism,
            janitor,
            janitor_failure,
        })
    }

    /// A failure of the janitor thread since the last call.
    pub(crate) fn take_failure(&self) -> Option<crate::Error> {
        crate::sync::lock(&self.janitor_failure).take()
    }

    /// Whether the current thread is one of this executor's workers.
    pub(crate) fn on_worker_thread(&self) -> bool {
        self.pool.current_thread_index().is_some()
    }

    /// Number of hash partitions (and, locally, of worker threads).
    pub fn parallelism(&self) -> usize {
        self.parallelism
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

/// What a batch restores into its jobs' state and saves from it.
#[derive(Default)]
pub struct BatchCheckpoint {
    pub(crate) restore: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
    pub(crate) save: Option<std::sync::Mutex<Vec<(String, Vec<u8>)>>>,
}

/// What a job does with a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchMode {
    /// Everything: stages, state and outputs.
    Full,
    /// Stages and state, no outputs: recovery recomputes a batch whose outputs completed
    /// before a crash, only to rebuild the state after it.
    StateOnly,
    /// Only restore state from the checkpoint being recovered, then return: `start()`
    /// checks that a checkpoint decodes before any batch runs.
    RestoreOnly,
}

/// Where the stages of a batch record how long they ran, and the event-time operators
/// how many records they found late.
#[derive(Default)]
pub(crate) struct StageTimes(
    std::sync::Mutex<Vec<StageTime>>,
    std::sync::atomic::AtomicU64,
);

impl StageTimes {
    /// The late records counted with [`Batch::count_late_records`].
    pub(crate) fn late_records(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The times recorded, in the order the stages ran.
    pub(crate) fn into_vec(self) -> Vec<StageTime> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// One batch in progress: its time and the executor its stages run on.
pub struct Batch<'e> {
    time: Time,
    zero: Time,
    exec: &'e Executor,
    job: usize,
    checkpoint: Option<&'e BatchCheckpoint>,
    mode: BatchMode,
    stage_times: Option<&'e StageTimes>,
    /// The cluster session the batch's collective calls go through (none: local).
    #[cfg(feature = "cluster")]
    cluster: Option<&'e crate::cluster::session::Session>,
    /// The collective calls this job made in this batch so far.
    #[cfg(feature = "cluster")]
    rounds: std::sync::atomic::AtomicU32,
}

impl<'e> Batch<'e> {
    /// A batch at `time` running on `exec`, for a context whose clock started at `zero`
    /// (Spark's `zeroTime`: the first batch time minus the interval).
    pub fn new(time: Time, zero: Time, exec: &'e Executor) -> Batch<'e> {
        Batch {
            time,
            zero,
            exec,
            job: 0,
            checkpoint: None,
            mode: BatchMode::Full,
            stage_times: None,
            #[cfg(feature = "cluster")]
            cluster: None,
            #[cfg(feature = "cluster")]
            rounds: Default::default(),
        }
    }

    /// The same batch, its collective calls going through `session`.
    #[cfg(feature = "cluster")]
    pub(crate) fn with_cluster(
        mut self,
        session: Option<&'e crate::cluster::session::Session>,
    ) -> Batch<'e> {
        self.cluster = session;
        self
    }

    /// This job's rounds of this batch in a cluster; `None` in a local context.
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(&self) -> Option<crate::cluster::session::Rounds<'_>> {
        self.cluster.map(|s| {
            s.rounds(
                self.time.millis(),
                self.job,
                self.exec.parallelism,
                &self.rounds,
            )
        })
    }

    /// The same batch, its stages timed into `times`.
    pub(crate) fn with_stage_times(mut self, times: &'e StageTimes) -> Batch<'e> {
        self.stage_times = Some(times);
        self
    }

    /// When a stage starts (generated code calls it before each stage): now, if the
    /// batch's stages are timed.
    pub fn stage_start(&self) -> Option<Instant> {
        self.stage_times.map(|_| Instant::now())
    }

    /// Stage `stage` of this batch's pipeline, started at `start`
    /// ([`stage_start`](Self::stage_start)), is done: its time goes into the batch's
    /// metrics.
    pub fn stage_done(&self, stage: usize, start: Option<Instant>) {
        if let (Some(times), Some(start)) = (self.stage_times, start) {
            let t = StageTime {
                pipeline: self.job + 1,
                stage,
                time: start.elapsed(),
            };
            crate::sync::lock(&times.0).push(t);
        }
    }

    /// Counts `n` records an event-time operator found too late for their windows, into
    /// the batch's metrics ([`BatchInfo::late_records`](crate::BatchInfo)).
    pub fn count_late_records(&self, n: u64) {
        if let Some(times) = self.stage_times {
            times.1.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The same batch run in `mode`.
    pub fn with_mode(mut self, mode: BatchMode) -> Batch<'e> {
        self.mode = mode;
        self
    }

    /// Whether the job runs its output operators on this batch.
    pub fn runs_outputs(&self) -> bool {
        self.mode == BatchMode::Full
    }

    /// Whether the job only restores its state (and returns before taking any input).
    pub fn restore_only(&self) -> bool {
        self.mode == BatchMode::RestoreOnly
    }

    /// The same batch for job `job`, restoring and saving state through `checkpoint`.
    pub fn for_job(&self, job: usize, checkpoint: Option<&'e BatchCheckpoint>) -> Batch<'e> {
        Batch {
            time: self.time,
            zero: self.zero,
            exec: self.exec,
            job,
            checkpoint,
            mode: self.mode,
            stage_times: self.stage_times,
            #[cfg(feature = "cluster")]
            cluster: self.cluster,
            #[cfg(feature = "cluster")]
            rounds: Default::default(),
        }
    }

    fn state_key(&self, id: &str) -> String {
        format!("job{}/{id}", self.job)
    }

    /// Restores `state` from the checkpoint being recovered, if it holds state `id`.
    pub fn restore<S: crate::checkpoint::Durable>(
        &self,
        state: &mut S,
        id: &str,
    ) -> crate::Result<()> {
        if let Some(c) = self.checkpoint {
            let key = self.state_key(id);
            let saved = crate::sync::lock(&c.restore).remove(&key);
            if let Some(bytes) = saved {
                state.load(&bytes).map_err(|e| {
                    crate::Error::Checkpoint(format!(
                        "the state of operator {key} does not decode: {}",
                        e.detail()
                    ))
                })?;
            }
        }
        Ok(())
    }

    /// Saves `state` as state `id` when this batch writes a checkpoint.
    pub fn save<S: crate::checkpoint::Durable>(&self, state: &S, id: &str) -> crate::Result<()> {
        if let Some(save) = self.checkpoint.and_then(|c| c.save.as_ref()) {
            let bytes = state.save()?;
            crate::sync::lock(save).push((self.state_key(id), bytes));
        }
        Ok(())
    }

    /// The clock's zero time; windows slide at multiples of their slide after it.
    pub fn zero_time(&self) -> Time {
        self.zero
    }

    /// The batch time.
    pub fn time(&self) -> Time {
        self.time
    }

    /// Number of hash partitions (the context's parallelism).
    pub fn partitions(&self) -> usize {
        self.exec.parallelism
    }

    /// Drops `x` on the janitor thread, off the batch's critical path.
    pub fn defer_drop<T: Send + 'static>(&self, x: T) {
        if let Some(j) = &self.exec.janitor {
            // If the janitor is gone, the value comes back and is dropped here.
            let _ = j.send(Box::new(x));
        }
    }

    /// Runs `f` over every partition, borrowing the data; results in partition order.
    /// A partition is a `Vec<T>` or an `Arc<Vec<T>>` (see [`Partition`](crate::Partition)).
    pub fn map_ref<'a, P, R, F>(&self, parts: &'a [P], f: F) -> Vec<R>
    where
        P: Sync + 'a,
        R: Send,
        F: Fn(&'a P) -> R + Sync + Send,
    {
        if parts.len() <= 1 || self.exec.parallelism == 1 {
            return parts.iter().map(&f).collect();
        }
        self.exec
            .pool
            .install(|| parts.par_iter().map(&f).collect())
    }

    /// Runs `f` over every partition, consuming the data; results in partition order.
    pub fn map_owned<T, R, F>(&self, parts: Vec<T>, f: F) -> Vec<R>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync + Send,
    {
        if parts.len() <= 1 || self.exec.parallelism == 1 {
            return parts.into_iter().map(f).collect();
        }
        self.exec
            .pool
            .install(|| parts.into_par_iter().map(f).collect())
    }

    /// Runs `f` over pairs of partitions of two inputs with the same partitioning.
    pub fn map_zip<A, B, R, F>(&self, a: Vec<A>, b: Vec<B>, f: F) -> Vec<R>
    where
        A: Send,
        B: Send,
        R: Send,
        F: Fn(A, B) -> R + Sync + Send,
    {
        debug_assert_eq!(a.len(), b.len());
        self.map_owned(a.into_iter().zip(b).collect(), |(x, y)| f(x, y))
    }
}

/// Splits `records` into `n` contiguous partitions of near-equal size, keeping order.
pub fn split_even<T>(records: Vec<T>, n: usize) -> Parts<T> {
    let n = n.max(1);
    let len = records.len();
    let mut out = Vec::with_capacity(n);
    let mut it = records.into_iter();
    for i in 0..n {
        let size = len / n + usize::from(i < len % n);
        out.push(it.by_ref().take(size).collect());
    }
    out
}

/// All records of `parts` in partition order.
pub fn concat<T>(parts: Parts<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_even_keeps_order_and_sizes() {
        let p = split_even((0..7).collect(), 3);
        assert_eq!(p, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        assert_eq!(
            split_even(Vec::<u8>::new(), 2),
            vec![Vec::<u8>::new(), Vec::new()]
        );
        assert_eq!(
            concat(split_even((0..5).collect::<Vec<_>>(), 4)),
            vec![0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn map_ref_runs_every_partition_in_order() {
        let exec = Executor::new(2).unwrap();
        let b = Batch::new(Time(1000), Time(0), &exec);
        let parts = vec![vec![1, 2], vec![3], vec![4, 5, 6]];
        let sums = b.map_ref(&parts, |p| p.iter().sum::<i32>());
        assert_eq!(sums, vec![3, 3, 15]);
        let lens = b.map_owned(parts, |p| p.len());
        assert_eq!(lens, vec![2, 1, 3]);
    }
}
