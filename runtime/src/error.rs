//! The error type of the runtime.

use std::fmt;

/// Result with rill's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when building, starting, running or stopping a streaming job.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The context's configuration is invalid (a zero batch interval, zero parallelism, ...).
    Config(String),
    /// An operation was called in the wrong lifecycle state (advance before start, ...).
    State(String),
    /// A pipeline was defined with parameters that cannot run (a window that is not a
    /// multiple of the batch interval, ...).
    Pipeline(String),
    /// An input or output failed.
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint could not be written, read or used.
    Checkpoint(String),
    /// A request to an object store (an `s3://` URL of `text_file_stream`,
    /// `save_as_text_files` or `checkpoint_dir`, with the `object-store` feature) failed
    /// after its retries: the network, the credentials, a missing bucket, a refusal.
    ObjectStore {
        /// What was being done, with the URL or key.
        context: String,
        /// The store's error.
        message: String,
    },
    /// A user function panicked while the batch at `time` was processed.
    JobPanicked {
        /// The batch time in milliseconds.
        time_ms: u64,
        /// The panic message.
        message: String,
    },
    /// A process of a cluster (feature `cluster`) was lost, did not connect in time, or
    /// the cluster's transport failed; the message names the process.
    Cluster(String),
    /// A thread of the runtime (a receiver, the batch clock, the scheduler, the
    /// janitor) panicked outside any batch.
    ThreadPanicked {
        /// The thread's name.
        thread: String,
        /// The panic message.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl Error {
    /// A copy of this error for a second reader (the context keeps the failure that
    /// stopped it and hands it to `await_termination` and `stop`). An I/O error keeps
    /// its kind and message.
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::Config(m) => Error::Config(m.clone()),
            Error::State(m) => Error::State(m.clone()),
            Error::Pipeline(m) => Error::Pipeline(m.clone()),
            Error::Io { context, source } => Error::Io {
                context: context.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Error::Checkpoint(m) => Error::Checkpoint(m.clone()),
            Error::Cluster(m) => Error::Cluster(m.clone()),
            Error::ObjectStore { context, message } => Error::ObjectStore {
                context: context.clone(),
                message: message.clone(),
            },
            Error::JobPanicked { time_ms, message } => Error::JobPanicked {
                time_ms: *time_ms,
                message: message.clone(),
            },
            Error::ThreadPanicked { thread, message } => Error::ThreadPanicked {
                thread: thread.clone(),
                message: message.clone(),
            },
        }
    }
}

impl Error {
    /// The message without the kind's prefix, to nest in another error's message.
    pub(crate) fn detail(&self) -> String {
        match self {
            Error::Checkpoint(m) | Error::State(m) => m.clone(),
            other => other.to_string(),
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `f`, turning a panic into [`Error::ThreadPanicked`] of the current thread.
pub(crate) fn catch_thread_panic<R>(f: impl FnOnce() -> R) -> Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| Error::ThreadPanicked {
        thread: std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string(),
        message: panic_message(p.as_ref()),
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::State(m) => write!(f, "{m}"),
            Error::Pipeline(m) => write!(f, "invalid pipeline: {m}"),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            Error::Cluster(m) => write!(f, "cluster: {m}"),
            Error::ObjectStore { context, message } => write!(f, "{context}: {message}"),
            Error::JobPanicked { time_ms, message } => {
                write!(
                    f,
                    "a user function panicked in the batch at {time_ms} ms: {message}"
                )
            }
            Error::ThreadPanicked { thread, message } => {
                write!(f, "the thread {thread} panicked: {message}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
