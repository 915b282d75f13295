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
