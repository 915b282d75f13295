//! One process's end of the cluster: all-to-all exchanges of bytes between processes.

use std::sync::Mutex;
use std::time::Duration;
use timely::communication::WorkerGuards;

use crossbeam_channel::Sender;

use super::bootstrap::connect_mesh;
use super::spec::ClusterSpec;
use super::watch::{Links, quiet_cascade_panics};
use super::worker::{self, Command, ExchangerOptions, Start};
use crate::sync::lock;
use crate::{Error, Result};

/// One process's end of the cluster: a thread that owns a timely `Worker` (one timely
/// worker per process: parallelism inside a process stays with rill's own executor) and
/// a dataflow `input -> Exchange pact by destination process -> a capturing operator`,
/// with a probe.
///
/// Every process of the cluster makes the same calls in the same order:
/// [`connect`](Self::connect), any number of [`all_to_all`](Self::all_to_all) with
/// increasing timestamps, [`shutdown`](Self::shutdown).
pub struct Exchanger {
    spec: ClusterSpec,
    commands: Mutex<Option<Sender<Command>>>,
    thread: Mutex<Option<WorkerGuards<()>>>,
    options: ExchangerOptions,
}

impl Exchanger {
    /// Bootstraps timely's communication (the connections of timely's cluster mode, one
    /// worker thread in this process, this process's index and every address) and builds
    /// the dataflow. Fails with an error naming the processes missing (not a hang) if the
    /// peers do not all connect within `timeout`.
    pub fn connect(spec: &ClusterSpec, timeout: Duration) -> Result<Exchanger> {
        Exchanger::connect_with(
            spec,
            ExchangerOptions {
                connect_timeout: timeout,
                ..ExchangerOptions::default()
            },
        )
    }

    /// [`connect`](Self::connect) with every timeout chosen.
    pub fn connect_with(spec: &ClusterSpec, options: ExchangerOptions) -> Result<Exchanger> {
        let spec = spec.clone().validated()?;
        quiet_cascade_panics();
        let sockets = connect_mesh(&spec, options.connect_timeout)?;
        let links = Links::new(spec.processes);
        let mut watched = Vec::with_capacity(sockets.len());
        for (peer, socket) in sockets.into_iter().enumerate() {
            watched.push(match socket {
                Some(socket) => Some(
                    links
                        .watch(peer, socket)
                        .map_err(|e| Error::io("cloning a cluster connection", e))?,
                ),
                None => None,
            });
        }
        let (builder, guard) = worker::start_networking(&spec, watched)?;
        let (commands, receive) = crossbeam_channel::unbounded();
        let (ready, is_ready) = crossbeam_channel::bounded(1);
        let start = Start {
            spec: spec.clone(),
            options: options.clone(),
            guard,
            links: links.clone(),
            commands: receive,
            ready,
        };
        let thread = worker::spawn(builder, start).inspect_err(|_| links.close_all())?;
        let failed = match is_ready.recv() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(Error::Cluster(format!(
                "{}: the cluster worker thread ended while starting",
                spec.describe(spec.process)
            ))),
        };
        if let Some(e) = failed {
            // The thread has ended or ends without its commands; joining does not panic.
            drop(commands);
            thread.join();
            return Err(e);
        }
        Ok(Exchanger {
            spec,
            commands: Mutex::new(Some(commands)),
            thread: Mutex::new(Some(thread)),
            options,
        })
    }

    /// This process's index.
    pub fn process(&self) -> usize {
        self.spec.process
    }

    /// The number of processes.
    pub fn processes(&self) -> usize {
        self.spec.processes
    }

    /// The cluster this exchanger belongs to.
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// One round of all-to-all exchange at timely timestamp `time` (strictly increasing
    /// over calls; every process makes the same calls in the same order; the caller
    /// derives `time` from the batch time and the exchange's index within the batch).
    ///
    /// `out[q]` goes to process `q` (`out.len() == processes`; `out[self]` comes back
    /// without the network). Returns what every process sent to this one, indexed by
    /// sender. The exchange is complete when the probe's frontier has passed `time`:
    /// timely's progress tracking guarantees that all senders' data for `time` has
    /// arrived then. Empty payloads are sent too (one small record), so a complete
    /// exchange is checked to have one payload from every sender, and an exchange that
    /// waits names the senders it waits for.
    ///
    /// If a peer is lost (its process died, a connection dropped) this returns
    /// [`Error::Cluster`] naming the lost process (its index and address), within a
    /// second on a local network; the session is over then, and every later call
    /// returns the same error.
    pub fn all_to_all(&self, time: u64, out: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        let (reply, result) = crossbeam_channel::bounded(1);
        self.send(Command::Exchange { time, out, reply })?;
        result.recv().unwrap_or_else(|_| Err(self.thread_gone()))
    }

    /// This process failed a batch: every other process's current (or next) exchange
    /// fails with `message`, naming this process, and this session ends. Waits at most
    /// a second for the message to leave.
    pub fn abort(&self, message: &str) {
        let (reply, done) = crossbeam_channel::bounded(1);
        let command = Command::Abort {
            message: message.to_string(),
            reply,
        };
        if self.send(command).is_ok() {
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
    }

    /// Ends the session (all processes call it): waits (up to the shutdown timeout of
    /// [`ExchangerOptions`]) for the peers to end theirs, then closes the connections.
    /// An error says which processes did not end theirs in time. Dropping an exchanger
    /// does the same without the error; neither hangs when peers are gone.
    pub fn shutdown(mut self) -> Result<()> {
        self.finish()
    }

    fn send(&self, command: Command) -> Result<()> {
        let commands = lock(&self.commands);
        match commands.as_ref() {
            Some(commands) => commands.send(command).map_err(|_| self.thread_gone()),
            None => Err(Error::State(format!(
                "{}: the cluster session has ended",
                self.spec.describe(self.spec.process)
            ))),
        }
    }

    fn thread_gone(&self) -> Error {
        Error::Cluster(format!(
            "{}: the cluster worker thread has ended",
            self.spec.describe(self.spec.process)
        ))
    }

    /// Asks the worker thread to end the session and waits for it, bounded by the
    /// shutdown timeout and the few seconds after it that closing takes.
    fn finish(&mut self) -> Result<()> {
        let Some(commands) = lock(&self.commands).take() else {
            return Ok(());
        };
        let (reply, result) = crossbeam_channel::bounded(1);
        if commands.send(Command::Shutdown { reply }).is_err() {
            return Err(self.thread_gone());
        }
        drop(commands);
        let bound = self.options.shutdown_timeout + Duration::from_secs(10);
        let outcome = match result.recv_timeout(bound) {
            Ok(outcome) => outcome,
            Err(_) => {
                // The thread is left behind rather than joined: joining could hang.
                if let Some(thread) = lock(&self.thread).take() {
                    std::mem::forget(thread);
                }
                return Err(Error::Cluster(format!(
                    "{}: the session did not end within {bound:?}",
                    self.spec.describe(self.spec.process)
                )));
            }
        };
        if let Some(thread) = lock(&self.thread).take() {
            thread.join();
        }
        outcome
    }
}

impl Drop for Exchanger {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("{e}");
        }
    }
}

impl std::fmt::Debug for Exchanger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchanger")
            .field("process", &self.spec.process)
            .field("processes", &self.spec.processes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(processes: usize, process: usize, addresses: &[String]) -> ClusterSpec {
        ClusterSpec {
            processes,
            process,
            addresses: addresses.to_vec(),
            workers: 1,
        }
    }

    fn free_addresses(n: usize) -> Vec<String> {
        let listeners: Vec<std::net::TcpListener> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        listeners
            .iter()
            .map(|l| l.local_addr().unwrap().to_string())
            .collect()
    }

    #[test]
    fn one_process_exchanges_with_itself() {
        let ex =
            Exchanger::connect(&spec(1, 0, &free_addresses(1)), Duration::from_secs(5)).unwrap();
        for t in 0..10u64 {
            let got = ex.all_to_all(t * 3, vec![vec![t as u8; 3]]).unwrap();
            assert_eq!(got, vec![vec![t as u8; 3]]);
        }
        assert!(ex.all_to_all(5, vec![vec![]]).is_err(), "time went back");
        assert!(
            ex.all_to_all(100, vec![]).is_err(),
            "wrong number of payloads"
        );
        ex.shutdown().unwrap();
    }

    #[test]
    fn three_threads_exchange_as_three_processes() {
        let addresses = free_addresses(3);
        let handles: Vec<_> = (0..3usize)
            .map(|p| {
                let s = spec(3, p, &addresses);
                std::thread::spawn(move || {
                    let ex = Exchanger::connect(&s, Duration::from_secs(10)).unwrap();
                    for t in 0..20u64 {
                        let out = (0..3)
                            .map(|q| format!("{p}->{q}@{t}").into_bytes())
                            .collect();
                        let got = ex.all_to_all(t, out).unwrap();
                        let want: Vec<Vec<u8>> = (0..3)
                            .map(|q| format!("{q}->{p}@{t}").into_bytes())
                            .collect();
                        assert_eq!(got, want);
                    }
                    ex.shutdown().unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
