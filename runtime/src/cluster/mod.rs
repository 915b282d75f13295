//! Several processes running one job (feature `cluster`): timely-dataflow's transport,
//! process bootstrap and progress tracking under rill's exchanges, and the
//! `local-cluster[N]` launcher.
//!
//! - [`spec`]: where this process stands ([`ClusterSpec`]), from timely's flags, a
//!   hostfile or the environment a launcher set.
//! - [`exchange`]: [`Exchanger`], one process's end of the cluster: all-to-all exchanges
//!   of bytes, complete when timely's frontier says so, with lost peers reported as
//!   errors naming them.
//! - `bootstrap`: connecting the processes within a deadline; `watch`: noticing a
//!   connection's end; `worker`: the thread that owns timely's worker.
//! - [`launch`]: `--master local-cluster[N]`'s supervisor, and peers for tests.
//! - `session`: a context's membership, and what a batch's exchanges, gathers and
//!   sources do on a cluster (`Batch::exchange`, `gather`, `keep_owned`).
//!
//! # Use
//!
//! ```no_run
//! use std::time::Duration;
//! use rill_runtime::cluster::{ClusterSpec, Exchanger};
//!
//! # fn main() -> rill_runtime::Result<()> {
//! // Set by the `local-cluster[N]` supervisor (or built with `ClusterSpec::from_flags`).
//! let spec = ClusterSpec::from_env()?.expect("started by a launcher");
//! let ex = Exchanger::connect(&spec, Duration::from_secs(30))?;
//! for batch in 0..10u64 {
//!     // One payload per process; every process makes the same calls.
//!     let out = (0..ex.processes()).map(|q| format!("to {q}").into_bytes()).collect();
//!     let received = ex.all_to_all(batch, out)?; // received[p]: what process p sent here
//!     assert_eq!(received.len(), ex.processes());
//! }
//! ex.shutdown()?;
//! # Ok(())
//! # }
//! ```
//!
//! Tests run their own binary as the other processes: `launch::test_cluster(n)` starts
//! processes `1..n` running the current test, and gives each process its spec.
//!
//! # How timely 0.32 behaves when a peer fails, and what rill does about it
//!
//! - **Bootstrap.** timely's `create_sockets` retries a missing peer forever, once a
//!   second, printing to stdout, and panics on a connection that does not send a worker
//!   index. rill connects the same mesh itself, within a deadline, and hands the sockets
//!   to timely's `initialize_networking_from_sockets` (module `bootstrap`).
//! - **A peer dies.** Its connections end (on one host at once; across hosts the
//!   keepalive probes and, on Linux, a 20 s user timeout set on every connection end it
//!   within about 20 s if the host vanished without a word, idle or with data in
//!   flight; the stall timeout of [`ExchangerOptions`] bounds the rest). timely's
//!   receive thread `timely:recv-P` then panics ("timely communication error: reading
//!   data: socket closed"), and a failed write
//!   panics `timely:send-P`; the panicking thread poisons the queues it shares with the
//!   worker, so the worker's next step panics ("MergeQueue poisoned"). Nothing else
//!   tells the worker: without a check, an exchange waiting for the dead peer's data would
//!   park forever. rill's worker parks at most 20 ms a step, catches a step's panic, and
//!   reads the connections' ends that the socket wrapper recorded before timely saw them
//!   (module `watch`): the exchange fails with [`Error::Cluster`](crate::Error::Cluster)
//!   naming the process and its address, about 0.3 s after the kill (the time given to
//!   other connections ending to be seen too, so the error names the dead process before
//!   the survivors that closed their connections after it).
//! - **Ending a session.** timely's `CommsGuard` joins its network threads with
//!   `expect`, and a receive thread ends only when the peer sends its last header: a
//!   lost or slow peer makes the join panic or hang. rill joins in a thread of its own,
//!   within the shutdown timeout, then closes the connections; after a failure it does
//!   not drop the poisoned worker at all (dropping could panic while panicking, which
//!   aborts) and leaves timely's parked send threads behind.
//! - The panics of that cascade are kept off stderr by a panic hook installed on first
//!   use, which hands every other panic to the hook that was there before.

mod bootstrap;
pub mod exchange;
pub mod launch;
pub(crate) mod session;
pub mod spec;
mod watch;
mod worker;

pub use exchange::Exchanger;
pub use launch::{
    TestPeers, free_loopback_addresses, local_spec, parse_master, run_local_cluster,
    spawn_test_peers, test_cluster,
};
pub use spec::ClusterSpec;
pub use worker::ExchangerOptions;
