//! The thread that owns this process's timely worker and its exchange dataflow.
//!
//! The dataflow is `input -> Exchange pact by destination process -> capture`, with a
//! probe after the capture. One exchange at timestamp `t` sends one record to every other
//! process (empty payloads too: a record per sender makes the result's completeness
//! checkable and lets a stalled exchange name the processes it still waits for), advances
//! the input to `t + 1`, and steps the worker until the probe's frontier has passed `t`:
//! timely's progress tracking then guarantees that every record sent at `t` by any
//! process has been consumed by the capture.
//!
//! Between steps (each parks at most [`POLL`]) the worker checks the session's
//! [`Links`] for a connection that ended; a step that panics (timely poisons the
//! worker's queues when a network thread fails) is caught and reported the same way.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use timely::communication::allocator::zero_copy::allocator::TcpBuilder;
use timely::communication::allocator::zero_copy::initialize::CommsGuard;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Allocator, WorkerGuards};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Input, Operator, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

use super::spec::ClusterSpec;
use super::watch::{Links, Watched};
use crate::error::panic_message;
use crate::sync::lock;
use crate::{Error, Result};

/// The name of the thread that waits for timely's network threads at the end of a session.
pub(crate) const TEARDOWN_PREFIX: &str = "rill-cluster-teardown";
/// The longest a step parks before the worker looks at its connections again.
const POLL: Duration = Duration::from_millis(20);
/// After a connection ended, how long the worker keeps stepping before calling the
/// exchange failed: what the peer sent before closing may still be on its way in.
const GRACE: Duration = Duration::from_millis(500);
/// After the first connection ended, how long to wait for others before naming the lost
/// processes: when a process dies, every survivor notices at about the same moment, and
/// a survivor that fails closes its connections, so a connection ended a moment later
/// may be a consequence, not a cause. The error names them all, earliest first.
const COLLECT: Duration = Duration::from_millis(300);

/// The timeouts of a session.
#[derive(Clone, Debug)]
pub struct ExchangerOptions {
    /// How long [`Exchanger::connect`](super::Exchanger::connect) waits for every peer.
    pub connect_timeout: Duration,
    /// How long one exchange may wait for the others' data while every connection is up
    /// (a peer whose process is alive but stopped, or that no longer makes the same
    /// exchanges). `None`: no limit, since a peer may take as long as its batch takes; a
    /// lost peer is noticed by its connection whatever this is.
    pub stall_timeout: Option<Duration>,
    /// How long `shutdown` waits for the peers to end the session too before closing the
    /// connections itself.
    pub shutdown_timeout: Duration,
}

impl Default for ExchangerOptions {
    fn default() -> Self {
        ExchangerOptions {
            connect_timeout: Duration::from_secs(30),
            stall_timeout: None,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// A request to the worker thread.
pub(crate) enum Command {
    /// One all-to-all exchange at a timestamp.
    Exchange {
        time: u64,
        out: Vec<Vec<u8>>,
        reply: Sender<Result<Vec<Vec<u8>>>>,
    },
    /// This process failed a batch: tell every other process why, and end the session.
    Abort { message: String, reply: Sender<()> },
    /// The end of the session.
    Shutdown { reply: Sender<Result<()>> },
}

/// The timestamp of an abort's message: past every exchange, so the others' pending
/// exchange completes (the aborting process's input has moved past it) and finds it.
const ABORT_TIME: u64 = u64::MAX - 1;

/// A payload, serialized as one byte string (not byte by byte, as a `Vec<u8>` would be).
#[derive(Clone, Debug, Default)]
struct Payload(Vec<u8>);

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Payload, D::Error> {
        struct Bytes;
        impl<'de> serde::de::Visitor<'de> for Bytes {
            type Value = Payload;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> std::result::Result<Payload, E> {
                Ok(Payload(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(
                self,
                v: Vec<u8>,
            ) -> std::result::Result<Payload, E> {
                Ok(Payload(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Payload, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element::<u8>()? {
                    v.push(b);
                }
                Ok(Payload(v))
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

/// What one process sends another at one timestamp.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    from: u64,
    to: u64,
    bytes: Payload,
}

/// What the capture received, by timestamp, then by sender.
type Received = Rc<RefCell<BTreeMap<u64, Vec<Option<Vec<u8>>>>>>;

/// Everything the worker thread needs, handed over from `connect`.
pub(crate) struct Start {
    pub(crate) spec: ClusterSpec,
    pub(crate) options: ExchangerOptions,
    pub(crate) guard: CommsGuard,
    pub(crate) links: Arc<Links>,
    pub(crate) commands: Receiver<Command>,
    pub(crate) ready: Sender<Result<()>>,
}

/// Builds timely's allocator from the connected sockets: its send and receive threads per
/// peer, and the builder of this process's single worker.
pub(crate) fn start_networking(
    spec: &ClusterSpec,
    sockets: Vec<Option<Watched>>,
) -> Result<(TcpBuilder, CommsGuard)> {
    let hooks = timely::communication::Hooks::default();
    let process = ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), None);
    let (mut builders, guard) =
        timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets(
            process,
            sockets,
            spec.process,
            1,
            hooks,
        )
        .map_err(|e| Error::Cluster(format!("{}: starting timely's network threads: {e}", spec.describe(spec.process))))?;
    match builders.pop() {
        Some(builder) if builders.is_empty() => Ok((builder, guard)),
        _ => Err(Error::Cluster(
            "timely made other than one worker for one thread".into(),
        )),
    }
}

/// Starts the worker thread (timely's `timely:work-0`, which builds the worker's
/// allocator from `builder` on itself, as timely requires).
pub(crate) fn spawn(builder: TcpBuilder, start: Start) -> Result<WorkerGuards<()>> {
    let start = std::sync::Mutex::new(Some(start));
    timely::communication::initialize_from(
        vec![AllocatorBuilder::Tcp(builder)],
        Box::new(()),
        move |allocator| {
            if let Some(start) = lock(&start).take() {
                run(start, allocator);
            }
        },
    )
    .map_err(|e| Error::Cluster(format!("starting the cluster worker thread: {e}")))
}

/// The worker thread's body: builds the dataflow, answers commands until shutdown (or
/// until the exchanger is dropped), then ends the session.
fn run(start: Start, allocator: Allocator) {
    let Start {
        spec,
        options,
        guard,
        links,
        commands,
        ready,
    } = start;
    let built = catch_unwind(AssertUnwindSafe(|| Session::new(&spec, allocator, &links)));
    let mut session = match built {
        Ok(session) => session,
        Err(p) => {
            let _ = ready.send(Err(Error::Cluster(format!(
                "{}: building the exchange dataflow panicked: {}",
                spec.describe(spec.process),
                panic_message(p.as_ref())
            ))));
            links.close_all();
            std::mem::forget(guard);
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let mut shutdown_reply = None;
    while let Ok(command) = commands.recv() {
        match command {
            Command::Exchange { time, out, reply } => {
                let _ = reply.send(session.exchange(time, out, &options));
            }
            Command::Abort { message, reply } => {
                session.abort(&message);
                let _ = reply.send(());
            }
            Command::Shutdown { reply } => {
                shutdown_reply = Some(reply);
                break;
            }
        }
    }
    let result = session.end(guard, &options);
    if let Some(reply) = shutdown_reply {
        let _ = reply.send(result);
    }
}

/// The timely worker with its dataflow, and where the exchanges stand.
struct Session {
    spec: ClusterSpec,
    links: Arc<Links>,
    worker: Option<Worker>,
    input: Option<InputHandle<u64, timely::container::CapacityContainerBuilder<Vec<Record>>>>,
    probe: ProbeHandle<u64>,
    received: Received,
    /// The lowest timestamp the next exchange may have.
    next_time: u64,
    /// The failure that ended the session, repeated to every later call.
    failed: Option<Error>,
}

impl Session {
    fn new(spec: &ClusterSpec, allocator: Allocator, links: &Arc<Links>) -> Session {
        let mut worker = Worker::new(
            timely::WorkerConfig::default(),
            allocator,
            Some(Instant::now()),
        );
        let mut input = InputHandle::new();
        let probe = ProbeHandle::new();
        let received: Received = Rc::new(RefCell::new(BTreeMap::new()));
        let capture = Rc::clone(&received);
        let processes = spec.processes;
        worker.dataflow::<u64, _, _>(|scope| {
            scope
                .input_from(&mut input)
                .unary::<timely::container::CapacityContainerBuilder<Vec<()>>, _, _, _>(
                    Exchange::new(|r: &Record| r.to),
                    "Capture",
                    move |_capability, _info| {
                        move |input, _output| {
                            input.for_each(|capability, data| {
                                // Records are sent at one time each: the stamp's only one.
                                let Some(time) = capability.least() else {
                                    return;
                                };
                                let mut received = capture.borrow_mut();
                                let slots = received
                                    .entry(*time)
                                    .or_insert_with(|| vec![None; processes]);
                                for record in data.drain(..) {
                                    if let Some(slot) = usize::try_from(record.from)
                                        .ok()
                                        .and_then(|f| slots.get_mut(f))
                                    {
                                        *slot = Some(record.bytes.0);
                                    }
                                }
                            });
                        }
                    },
                )
                .probe_with(&probe);
        });
        Session {
            spec: spec.clone(),
            links: Arc::clone(links),
            worker: Some(worker),
            input: Some(input),
            probe,
            received,
            next_time: 0,
            failed: None,
        }
    }

    fn me(&self) -> String {
        self.spec.describe(self.spec.process)
    }

    /// Sends every other process `message` at [`ABORT_TIME`] and moves the input past
    /// it, so their exchanges complete and report it; steps the worker a moment so it
    /// leaves before the process may end. Later exchanges fail.
    fn abort(&mut self, message: &str) {
        if self.failed.is_some() {
            return;
        }
        let me = self.spec.process;
        if let Some(input) = self.input.as_mut() {
            input.advance_to(ABORT_TIME);
            for to in (0..self.spec.processes).filter(|q| *q != me) {
                input.send(Record {
                    from: me as u64,
                    to: to as u64,
                    bytes: Payload(message.as_bytes().to_vec()),
                });
            }
            input.advance_to(u64::MAX);
        }
        if let Some(worker) = self.worker.as_mut() {
            let until = Instant::now() + GRACE;
            while Instant::now() < until {
                if catch_unwind(AssertUnwindSafe(|| worker.step_or_park(Some(POLL)))).is_err() {
                    break;
                }
            }
        }
        self.failed = Some(Error::Cluster(format!(
            "{}: this process failed a batch: {message}",
            self.me()
        )));
    }

    /// Why process `from` sent nothing at an exchange, if it aborted.
    fn aborted(&self, from: usize) -> Option<Error> {
        let received = self.received.borrow();
        let message = received.get(&ABORT_TIME)?.get(from)?.as_ref()?;
        Some(Error::Cluster(format!(
            "{} failed: {}",
            self.spec.describe(from),
            String::from_utf8_lossy(message)
        )))
    }

    /// One all-to-all exchange at `time`.
    fn exchange(
        &mut self,
        time: u64,
        out: Vec<Vec<u8>>,
        options: &ExchangerOptions,
    ) -> Result<Vec<Vec<u8>>> {
        if let Some(e) = &self.failed {
            return Err(e.duplicate());
        }
        let processes = self.spec.processes;
        if out.len() != processes {
            return Err(Error::State(format!(
                "all_to_all needs one payload per process ({processes}), got {}",
                out.len()
            )));
        }
        if time < self.next_time || time == u64::MAX {
            return Err(Error::State(format!(
                "all_to_all timestamps must increase: {time} after {}",
                self.next_time.saturating_sub(1)
            )));
        }
        let me = self.spec.process;
        let (Some(input), Some(_)) = (self.input.as_mut(), self.worker.as_ref()) else {
            return Err(Error::State(format!(
                "{}: the session has ended",
                self.me()
            )));
        };
        input.advance_to(time);
        let mut mine = Vec::new();
        for (to, bytes) in out.into_iter().enumerate() {
            if to == me {
                mine = bytes;
            } else {
                input.send(Record {
                    from: me as u64,
                    to: to as u64,
                    bytes: Payload(bytes),
                });
            }
        }
        input.advance_to(time + 1);
        self.next_time = time + 1;
        match self.await_time(time, options) {
            Ok(()) => {}
            Err(e) => {
                self.links.close_all();
                self.failed = Some(e.duplicate());
                return Err(e);
            }
        }
        let slots = self
            .received
            .borrow_mut()
            .remove(&time)
            .unwrap_or_else(|| vec![None; processes]);
        let mut result = Vec::with_capacity(processes);
        for (from, slot) in slots.into_iter().enumerate() {
            match slot {
                Some(bytes) => result.push(bytes),
                None if from == me => result.push(std::mem::take(&mut mine)),
                None => {
                    let e = self.aborted(from).unwrap_or_else(|| {
                        Error::Cluster(format!(
                            "{}: the exchange at {time} completed without data from {} \
                         (do all processes make the same exchanges?)",
                            self.me(),
                            self.spec.describe(from)
                        ))
                    });
                    self.failed = Some(e.duplicate());
                    self.links.close_all();
                    return Err(e);
                }
            }
        }
        Ok(result)
    }

    /// Steps the worker until the probe has passed `time`, or a connection ends, or the
    /// stall timeout passes.
    fn await_time(&mut self, time: u64, options: &ExchangerOptions) -> Result<()> {
        let started = Instant::now();
        let Some(worker) = self.worker.as_mut() else {
            return Err(Error::State(format!(
                "{}: the session has ended",
                self.me()
            )));
        };
        while self.probe.less_equal(&time) {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| worker.step_or_park(Some(POLL)))) {
                // The worker's queues are poisoned: it must not run (or be dropped) again.
                if let Some(worker) = self.worker.take() {
                    std::mem::forget(worker);
                }
                if let Some(input) = self.input.take() {
                    std::mem::forget(input);
                }
                self.collect_ends();
                return Err(self.lost(time).unwrap_or_else(|| {
                    Error::Cluster(format!(
                        "{}: timely's worker failed during the exchange at {time}: {}",
                        self.me(),
                        panic_message(p.as_ref())
                    ))
                }));
            }
            if !self.probe.less_equal(&time) {
                break;
            }
            let ended = self.links.ended();
            if ended.iter().any(|(_, e)| e.at.elapsed() >= GRACE) {
                self.collect_ends();
                return Err(self.lost(time).unwrap_or_else(|| {
                    Error::Cluster(format!("{}: a connection ended", self.me()))
                }));
            }
            if let Some(stall) = options.stall_timeout.filter(|s| started.elapsed() >= *s) {
                return Err(Error::Cluster(format!(
                    "{}: the exchange at {time} waited {stall:?} for {}",
                    self.me(),
                    self.waiting_for(time).join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The processes whose data for `time` has not arrived.
    fn waiting_for(&self, time: u64) -> Vec<String> {
        let received = self.received.borrow();
        let slots = received.get(&time);
        (0..self.spec.processes)
            .filter(|p| *p != self.spec.process)
            .filter(|p| slots.is_none_or(|s| s[*p].is_none()))
            .map(|p| self.spec.describe(p))
            .collect()
    }

    /// Waits until [`COLLECT`] has passed since the first connection ended (or from now,
    /// when none has yet).
    fn collect_ends(&self) {
        let first = self.links.ended().iter().map(|(_, e)| e.at).min();
        let until = first.unwrap_or_else(Instant::now) + COLLECT;
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
    }

    /// The error naming the processes whose connection ended, earliest first, if any did.
    fn lost(&self, time: u64) -> Option<Error> {
        let mut ended = self.links.ended();
        if ended.is_empty() {
            return None;
        }
        ended.sort_by_key(|(_, e)| e.at);
        let lost: Vec<String> = ended
            .iter()
            .map(|(p, e)| format!("{} ({})", self.spec.describe(*p), e.what))
            .collect();
        Some(Error::Cluster(format!(
            "{} lost {} during the exchange at {time}",
            self.me(),
            lost.join(", ")
        )))
    }

    /// Ends the session: drops the dataflow (timely's send threads then write their last
    /// header and close), and waits up to the shutdown timeout for the peers to end
    /// theirs; past it, closes the connections. After a failure, the worker is not
    /// dropped (its queues are poisoned) and the connections are closed at once.
    fn end(&mut self, guard: CommsGuard, options: &ExchangerOptions) -> Result<()> {
        if self.failed.is_some() || self.worker.is_none() {
            self.links.close_all();
            if let Some(worker) = self.worker.take() {
                std::mem::forget(worker);
            }
            if let Some(input) = self.input.take() {
                std::mem::forget(input);
            }
            // timely's threads for the failed session end on their closed sockets (or
            // stay parked); waiting for them could hang.
            std::mem::forget(guard);
            return Ok(());
        }
        drop(self.input.take());
        let worker = self.worker.take();
        if catch_unwind(AssertUnwindSafe(move || drop(worker))).is_err() {
            // A network thread failed after the last exchange: nothing of this session
            // is missing, but its connections are not worth waiting for.
            self.links.close_all();
        }
        let (done, finished) = crossbeam_channel::bounded::<()>(1);
        let name = format!("{TEARDOWN_PREFIX}-{}", self.spec.process);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(guard)));
            let _ = done.send(());
        });
        if spawned.is_err() {
            self.links.close_all();
            return Ok(());
        }
        if finished.recv_timeout(options.shutdown_timeout).is_ok() {
            return Ok(());
        }
        let waiting: Vec<String> = (0..self.spec.processes)
            .filter(|p| *p != self.spec.process)
            .filter(|p| !self.links.ended().iter().any(|(q, _)| q == p))
            .map(|p| self.spec.describe(p))
            .collect();
        self.links.close_all();
        let _ = finished.recv_timeout(Duration::from_secs(5));
        Err(Error::Cluster(format!(
            "{}: {} did not end the session within {:?}; closed the connections",
            self.me(),
            if waiting.is_empty() {
                "timely's network threads".to_string()
            } else {
                waiting.join(", ")
            },
            options.shutdown_timeout
        )))
    }
}
