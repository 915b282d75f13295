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
    /// A user function panicked while the batch at `time` was processed.
    JobPanicked {
        /// The batch time in milliseconds.
        time_ms: u64,
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::State(m) => write!(f, "{m}"),
            Error::Pipeline(m) => write!(f, "invalid pipeline: {m}"),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            Error::JobPanicked { time_ms, message } => {
                write!(
                    f,
                    "a user function panicked in the batch at {time_ms} ms: {message}"
                )
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
