//! The runtime of rill: the streaming context and its batch clock, receivers, partitioned
//! parallel execution, shuffles and output operators.
//!
//! Users reach it through the `rill` crate; generated code through `rill::__private`.

#![deny(missing_docs)]

pub mod backpressure;
pub mod checkpoint;
#[cfg(feature = "cluster")]
pub mod cluster;
mod collective;
pub mod combine;
#[cfg(feature = "cluster")]
mod combine_wire;
/// Connectors to external brokers, each behind its cargo feature.
pub mod connectors;
mod context;
pub mod corpus;
mod driver;
mod error;
mod exec;
#[doc(hidden)]
pub mod fault;
pub mod forecast;
#[doc(hidden)]
pub mod interp;
pub mod metrics;
pub mod ops;
mod partition;
#[doc(hidden)]
pub mod private;
mod record;
mod scheduler;
pub mod sinks;
pub mod sources;
pub mod store;
mod sync;
mod time;
mod ui;
mod wire;

pub use context::{Builder, StopHandle, StreamingContext};
pub use error::{Error, Result};
pub use exec::{Batch, Executor, Parts, concat, split_even};
pub use metrics::BatchInfo;
pub use partition::{Partition, concat_parts, into_parts};
pub use record::{Key, Record};
#[doc(hidden)]
pub use serde;
pub use sinks::collect::Collected;
pub use time::{Time, first_batch_time, now_ms, parse_duration};
pub use wire::Wire;

#[cfg(test)]
mod layering {
    /// No import circles between the runtime's top-level modules, as
    /// `tools/module_cycles.py` checks (`.ci/run` runs it as well). Skipped where the
    /// script or python3 is missing (the crate packaged alone).
    #[test]
    fn no_import_circles_between_top_level_modules() {
        let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let script = crate_dir.join("../tools/module_cycles.py");
        if !script.exists() {
            eprintln!("skipped: {} is not here", script.display());
            return;
        }
        match std::process::Command::new("python3")
            .arg(&script)
            .arg(crate_dir.join("src"))
            .output()
        {
            Err(e) => eprintln!("skipped: cannot run python3 ({e})"),
            Ok(out) => assert!(
                out.status.success(),
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}
