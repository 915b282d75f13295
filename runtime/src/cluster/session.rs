//! A context's place in a cluster: which spec it joins, the exchanger it talks through
//! once started, and the rounds of one batch (what `Batch::exchange`, `gather` and
//! `keep_owned` do in a cluster).

use super::{ClusterSpec, Exchanger};
use crate::wire::{Arena, Wire};
use crate::{Error, Result};
use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How long `start()` waits for every process of the cluster to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// The environment variable that runs a test binary's contexts as a cluster of
/// replicas (`RILL_MASTER=local-cluster[N]`): the test process is process 0 and starts
/// processes 1..N running the same test.
pub const MASTER_ENV: &str = "RILL_MASTER";

thread_local! {
    /// Contexts this thread made in a cluster, so each gets its own session (ports).
    static SESSIONS: Cell<usize> = const { Cell::new(0) };
    /// In a test process under `RILL_MASTER`: the peers running this test, and the
    /// spec of session 0.
    static TEST_PEERS: RefCell<Option<(super::launch::TestPeers, ClusterSpec)>> = const { RefCell::new(None) };
}

/// A context's membership in a cluster (none for a local context).
#[derive(Default)]
pub(crate) struct Membership {
    spec: Option<ClusterSpec>,
    /// Every process runs a replica of one test: each writes the outputs.
    replicas: bool,
    session: OnceLock<Session>,
    /// Why the context cannot join its cluster (`start()` reports it).
    error: Option<String>,
}

impl Membership {
    /// The membership of a context made now on this thread: from a launcher's
    /// environment, from `RILL_MASTER=local-cluster[N]` in a test, or none.
    pub(crate) fn for_new_context() -> Membership {
        Self::from_env().unwrap_or_else(|e| Membership {
            error: Some(e.to_string()),
            ..Membership::default()
        })
    }

    fn from_env() -> Result<Membership> {
        let replicas = std::env::var_os(MASTER_ENV).is_some();
        let base = match ClusterSpec::from_env()? {
            Some(spec) => {
                watch_launcher();
                Some(spec)
            }
            None => match std::env::var(MASTER_ENV) {
                Ok(master) => Some(test_cluster(&master)?),
                Err(_) => None,
            },
        };
        let Some(base) = base else {
            return Ok(Membership::default());
        };
        let k = SESSIONS.with(|s| {
            let k = s.get();
            s.set(k + 1);
            k
        });
        Ok(Membership {
            spec: Some(base.session(k)),
            replicas,
            ..Membership::default()
        })
    }

    /// The membership given by flags (`--processes N --process I --hostfile F`).
    pub(crate) fn explicit(spec: ClusterSpec) -> Membership {
        Membership {
            spec: Some(spec),
            ..Membership::default()
        }
    }

    /// The spec this context joins, if any.
    pub(crate) fn spec(&self) -> Option<&ClusterSpec> {
        self.spec.as_ref()
    }

    /// How many processes run the context (1 for a local one).
    pub(crate) fn processes(&self) -> usize {
        self.spec.as_ref().map_or(1, |s| s.processes)
    }

    /// Connects to the other processes (at `start()`); nothing for a local context.
    pub(crate) fn connect(&self) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(Error::Cluster(e.clone()));
        }
        let Some(spec) = &self.spec else {
            return Ok(());
        };
        if self.session.get().is_some() {
            return Ok(());
        }
        tracing::info!(
            process = spec.process,
            processes = spec.processes,
            "joining the cluster"
        );
        let exchanger = Exchanger::connect(spec, CONNECT_TIMEOUT)?;
        let _ = self.session.set(Session {
            exchanger,
            replicas: self.replicas,
        });
        Ok(())
    }

    /// The connected session, once `start()` connected it.
    pub(crate) fn session(&self) -> Option<&Session> {
        self.session.get()
    }

    /// Whether every process runs a replica of one test.
    pub(crate) fn replicas(&self) -> bool {
        self.replicas
    }
}

/// A process started by a launcher (`local-cluster[N]`'s supervisor, or a test's process
/// 0) ends when the launcher does, even if it was killed and could not stop it: a thread
/// looks every half second whether the process's parent changed (it is adopted when its
/// parent dies).
fn watch_launcher() {
    static WATCHING: std::sync::Once = std::sync::Once::new();
    WATCHING.call_once(|| {
        let parent = std::os::unix::process::parent_id();
        let spawned = std::thread::Builder::new()
            .name("rill-launcher-watch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(500));
                    if std::os::unix::process::parent_id() != parent {
                        eprintln!("the cluster's launcher (process {parent}) is gone; exiting");
                        std::process::exit(1);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot watch the cluster's launcher");
        }
    });
}

/// The spec of session 0 of a test run under `RILL_MASTER=local-cluster[N]`: in the
/// test process, made here with fresh ports and peers started running this test; in a
/// peer, `from_env` found it already.
fn test_cluster(master: &str) -> Result<ClusterSpec> {
    let Some((processes, workers)) = super::launch::parse_master(master) else {
        return Err(Error::Config(format!(
            "{MASTER_ENV}={master}: expected local-cluster[N] or local-cluster[N,W]"
        )));
    };
    TEST_PEERS.with(|peers| {
        if let Some((_, spec)) = &*peers.borrow() {
            return Ok(spec.clone());
        }
        let test = std::thread::current()
            .name()
            .map(str::to_string)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{MASTER_ENV} runs a test on several processes: the test's thread has no name"
                ))
            })?;
        let spec = super::launch::local_spec(processes, workers.unwrap_or(1))?;
        let handle = super::launch::spawn_test_peers(&spec, &test)?;
        *peers.borrow_mut() = Some((handle, spec.clone()));
        Ok(spec)
    })
}

/// A connected cluster session.
pub(crate) struct Session {
    exchanger: Exchanger,
    replicas: bool,
}

/// Timestamps of the rounds outside any job: the clock agreed at `start()`, the first
/// snapshot; in each batch, process 0's header first and the checkpoint's last.
const CLOCK_ROUND: u64 = 0;
const FIRST_SNAPSHOT_ROUND: u64 = 1;
const HEADER_JOB: u64 = 0;
const METRICS_JOB: u64 = 0xfe;
const CHECKPOINT_JOB: u64 = 0xff;

/// What process 0 says at the start of every batch, which every process then follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Header {
    /// The batch runs its outputs (not only its state: recovery recomputing a batch
    /// whose outputs completed before a crash).
    pub(crate) outputs: bool,
    /// The batch is the last one (a graceful stop): it writes a checkpoint, and every
    /// process stops after it.
    pub(crate) last: bool,
}

impl Session {
    /// This process's index.
    pub(crate) fn process(&self) -> usize {
        self.exchanger.process()
    }

    /// The number of processes.
    pub(crate) fn processes(&self) -> usize {
        self.exchanger.processes()
    }

    /// A round in which process 0 sends `value` to every process; returns process 0's.
    fn said_by_zero<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        time: u64,
        value: &T,
    ) -> Result<T> {
        let n = self.processes();
        let out = if self.process() == 0 {
            let bytes = encode(value)?;
            (0..n).map(|_| bytes.clone()).collect()
        } else {
            vec![Vec::new(); n]
        };
        // Process 0's own payload comes back to it too (`out[self]`).
        let received = self.exchanger.all_to_all(time, out)?;
        decode_owned(&received[0], 0)
    }

    /// At `start()`: the clock's zero and last batch times, as process 0 has them.
    pub(crate) fn agree_on_clock(&self, zero_ms: u64, last_ms: u64) -> Result<(u64, u64)> {
        self.said_by_zero(CLOCK_ROUND, &(zero_ms, last_ms))
    }

    /// At `start()`: every process wrote its first snapshot.
    pub(crate) fn first_snapshot_written(&self) -> Result<()> {
        self.said_by_zero(FIRST_SNAPSHOT_ROUND, &())
    }

    /// At the start of the batch at `time_ms`: process 0's header.
    pub(crate) fn header(&self, time_ms: u64, mine: Header) -> Result<Header> {
        self.said_by_zero((time_ms << 20) | (HEADER_JOB << 12), &mine)
    }

    /// After the jobs of the batch at `time_ms` ran: the sum of `value` over the
    /// processes (a count every process made of its own partitions, such as late records).
    pub(crate) fn total(&self, time_ms: u64, value: u64) -> Result<u64> {
        let n = self.processes();
        let out = vec![value.to_le_bytes().to_vec(); n];
        let received = self
            .exchanger
            .all_to_all((time_ms << 20) | (METRICS_JOB << 12), out)?;
        Ok(numbers(&received)?
            .into_iter()
            .fold(0u64, u64::saturating_add))
    }

    /// After the batch at `time_ms` wrote its checkpoint on this process: returns once
    /// every process has.
    pub(crate) fn checkpoint_written(&self, time_ms: u64) -> Result<()> {
        self.said_by_zero((time_ms << 20) | (CHECKPOINT_JOB << 12), &())
    }

    /// This process failed a batch with `e`: the others fail theirs with its message.
    pub(crate) fn abort(&self, e: &Error) {
        self.exchanger.abort(&e.to_string());
    }

    /// The rounds of one job's batch: their timestamps are `time` and `job`, then a
    /// counter.
    pub(crate) fn rounds<'s>(
        &'s self,
        time_ms: u64,
        job: usize,
        partitions: usize,
        counter: &'s AtomicU32,
    ) -> Rounds<'s> {
        Rounds {
            session: self,
            partitions: partitions.max(1),
            // Jobs take the numbers 1.. between the header and the batch's totals
            // (`join_cluster` allows at most 249 jobs).
            base: (time_ms << 20) | ((job as u64 + 1).min(METRICS_JOB - 1) << 12),
            counter,
        }
    }
}

/// The collective calls of one job on one batch.
pub(crate) struct Rounds<'s> {
    session: &'s Session,
    /// The context's partitions (its parallelism).
    partitions: usize,
    base: u64,
    counter: &'s AtomicU32,
}

impl Rounds<'_> {
    fn me(&self) -> usize {
        self.session.exchanger.process()
    }

    fn processes(&self) -> usize {
        self.session.exchanger.processes()
    }

    /// The process that owns entry `i` of a batch's partitions: partition `i` of the
    /// context's `partitions` belongs to process `i mod processes`. A window's or a
    /// union's entries are several batches' (or streams') partitions one after another,
    /// and a repartitioned stream's may be more: entry `i` is partition
    /// `i mod partitions`.
    fn owner(&self, i: usize) -> usize {
        (i % self.partitions) % self.processes()
    }

    /// One all-to-all round at the next timestamp of this job's batch.
    fn round(&self, out: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        let k = self.counter.fetch_add(1, Ordering::Relaxed);
        if k >= 1 << 12 {
            return Err(Error::Cluster(
                "more than 4096 exchanges in one job's batch".into(),
            ));
        }
        self.session
            .exchanger
            .all_to_all(self.base | u64::from(k), out)
    }

    /// See `Batch::exchange`: `out[destination][source]`, every source's bucket.
    pub(crate) fn exchange<'a, B: Wire<'a>>(
        &self,
        mut out: Vec<Vec<B>>,
        arena: &'a Arena,
    ) -> Result<Vec<Vec<B>>> {
        let (me, n) = (self.me(), self.processes());
        let mut send: Vec<Vec<(u32, u32, B)>> = (0..n).map(|_| Vec::new()).collect();
        for (dst, buckets) in out.iter_mut().enumerate() {
            let owner = self.owner(dst);
            if owner == me {
                continue;
            }
            for (src, b) in std::mem::take(buckets).into_iter().enumerate() {
                // Only this process's partitions hold records.
                if self.owner(src) == me {
                    send[owner].push((dst as u32, src as u32, b));
                }
            }
        }
        let received = self.round(encode_all(send)?)?;
        for (from, bytes) in received.into_iter().enumerate() {
            if from == me {
                continue;
            }
            let list: Vec<(u32, u32, B)> = decode(arena.keep(bytes), from)?;
            for (dst, src, b) in list {
                let slot = out
                    .get_mut(dst as usize)
                    .and_then(|d| d.get_mut(src as usize))
                    .ok_or_else(|| mismatch(from))?;
                *slot = b;
            }
        }
        Ok(out)
    }

    /// A source's partitions as process 0 cut them: process 0 sends every other
    /// process the partitions it owns (written by `encode_part`, read by `decode_part`).
    pub(crate) fn scatter<T>(
        &self,
        mut parts: Vec<Vec<T>>,
        encode_part: fn(&Vec<T>) -> Result<Vec<u8>>,
        decode_part: fn(&[u8]) -> Result<Vec<T>>,
    ) -> Result<Vec<Vec<T>>> {
        let (me, n) = (self.me(), self.processes());
        let mut send: Vec<Vec<(u32, Vec<u8>)>> = (0..n).map(|_| Vec::new()).collect();
        if me == 0 {
            for (p, part) in parts.iter_mut().enumerate() {
                let owner = self.owner(p);
                if owner != 0 {
                    send[owner].push((p as u32, encode_part(&std::mem::take(part))?));
                }
            }
        }
        let received = self.round(encode_all(send)?)?;
        if me != 0 {
            let list: Vec<(u32, Vec<u8>)> = decode(&received[0], 0)?;
            for (p, bytes) in list {
                *parts.get_mut(p as usize).ok_or_else(|| mismatch(0))? = decode_part(&bytes)?;
            }
        }
        Ok(parts)
    }

    /// See `Batch::gather` (`to_all`) and `Batch::gather_for_outputs`: the entries every
    /// process owns, sent to every process, or only to those that write outputs.
    pub(crate) fn gather<'a, P: Wire<'a> + Default>(
        &self,
        mut parts: Vec<P>,
        arena: &'a Arena,
        to_all: bool,
    ) -> Result<Vec<P>> {
        let (me, n) = (self.me(), self.processes());
        let to_all = to_all || self.session.replicas;
        let sends_to = |q: usize| q != me && (to_all || q == 0);
        // Written once, and only if some process reads it (not by process 0 of a gather
        // for outputs, nor on a cluster of one process).
        let bytes = if (0..n).any(sends_to) {
            let mine: Vec<(u32, &P)> = parts
                .iter()
                .enumerate()
                .filter(|(i, _)| self.owner(*i) == me)
                .map(|(i, p)| (i as u32, p))
                .collect();
            encode(&mine)?
        } else {
            Vec::new()
        };
        let out = (0..n)
            .map(|q| {
                if sends_to(q) {
                    bytes.clone()
                } else {
                    Vec::new()
                }
            })
            .collect();
        let received = self.round(out)?;
        if !(to_all || me == 0) {
            return Ok(parts);
        }
        for (from, bytes) in received.into_iter().enumerate() {
            if from == me {
                continue;
            }
            let list: Vec<(u32, P)> = decode(arena.keep(bytes), from)?;
            for (i, p) in list {
                *parts.get_mut(i as usize).ok_or_else(|| mismatch(from))? = p;
            }
        }
        Ok(parts)
    }

    /// See `Batch::max_over_processes`.
    pub(crate) fn max(&self, value: u64) -> Result<u64> {
        let n = self.processes();
        let received = self.round(vec![value.to_le_bytes().to_vec(); n])?;
        Ok(numbers(&received)?.into_iter().fold(value, u64::max))
    }

    /// See `Batch::keep_owned`.
    pub(crate) fn keep_owned<P: Default>(&self, mut parts: Vec<P>) -> Vec<P> {
        let me = self.me();
        for (i, p) in parts.iter_mut().enumerate() {
            if self.owner(i) != me {
                *p = P::default();
            }
        }
        parts
    }

    /// See `Batch::writes_outputs`.
    pub(crate) fn writes_outputs(&self) -> bool {
        self.session.replicas || self.me() == 0
    }
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config())
        .map_err(|e| Error::Cluster(format!("cannot encode records to send: {e}")))
}

fn encode_all<T: serde::Serialize>(lists: Vec<T>) -> Result<Vec<Vec<u8>>> {
    lists.iter().map(encode).collect()
}

fn decode<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], from: usize) -> Result<T> {
    bincode::serde::borrow_decode_from_slice(bytes, config())
        .map(|(v, _)| v)
        .map_err(|e| Error::Cluster(format!("records from process {from} do not decode: {e}")))
}

fn decode_owned<T: serde::de::DeserializeOwned>(bytes: &[u8], from: usize) -> Result<T> {
    bincode::serde::decode_from_slice(bytes, config())
        .map(|(v, _)| v)
        .map_err(|e| {
            Error::Cluster(format!(
                "a message from process {from} does not decode: {e}"
            ))
        })
}

/// The `u64` every process sent in a round of numbers (`to_le_bytes`), by sender.
fn numbers(received: &[Vec<u8>]) -> Result<Vec<u64>> {
    received
        .iter()
        .enumerate()
        .map(|(from, bytes)| {
            let v: [u8; 8] = bytes.as_slice().try_into().map_err(|_| mismatch(from))?;
            Ok(u64::from_le_bytes(v))
        })
        .collect()
}

fn mismatch(from: usize) -> Error {
    Error::Cluster(format!(
        "process {from} sent records for a partition this job does not have: the processes run different pipelines"
    ))
}
