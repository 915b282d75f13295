//! The runtime of rill: the streaming context and its batch clock, receivers, partitioned
//! parallel execution, shuffles and output operators.
//!
//! Users reach it through the `rill` crate; generated code through `rill::__private`.

#![deny(missing_docs)]

pub mod backpressure;
mod batch_loop;
pub(crate) mod builder;
pub mod checkpoint;
mod clock;
pub mod combine;
mod context;
pub mod corpus;
mod error;
mod exec;
#[doc(hidden)]
pub mod fault;
pub mod forecast;
mod graceful;
#[doc(hidden)]
pub mod interp;
pub mod metrics;
pub mod ops;
mod partition;
#[doc(hidden)]
pub mod private;
mod record;
mod recovery;
pub mod sinks;
pub mod sources;
mod time;

pub use builder::Builder;
pub use clock::{first_batch_time, now_ms};
pub use context::StreamingContext;
pub use error::{Error, Result};
pub use exec::{Batch, Executor, Parts, concat, split_even};
pub use graceful::StopHandle;
pub use metrics::BatchInfo;
pub use partition::{Partition, concat_parts, into_parts};
pub use record::{Key, Record};
#[doc(hidden)]
pub use serde;
pub use sinks::collect::Collected;
pub use time::{Time, parse_duration};
