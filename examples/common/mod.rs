//! What the examples share.
// Each example uses part of this module.
#![allow(dead_code)]

/// Logs to stderr at `info` (or as `RUST_LOG` says), in colour only on a terminal.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A closed stderr (`2>&1 | head`) must not turn a log line into a panic.
        .log_internal_errors(false)
        .init();
}

/// SIGINT and SIGTERM stop `ctx` gracefully: receivers stop, what they received is
/// processed, a last checkpoint is written, and `await_termination` returns.
pub fn stop_gracefully_on_signals(ctx: &rill::StreamingContext) {
    let handle = ctx.stop_handle();
    if let Err(e) = ctrlc::set_handler(move || {
        if let Err(e) = handle.stop_gracefully() {
            tracing::error!(error = %e, "graceful stop failed");
        }
    }) {
        tracing::error!(error = %e, "cannot handle SIGINT/SIGTERM");
    }
}

/// The value after `name` on the command line, or `default`.
pub fn flag(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// The duration after `name` on the command line (`500ms`, `1s`, ...), or `default`. A
/// value that is not one ends the program with a message and exit code 2, as a usage
/// error.
pub fn duration_flag(args: &[String], name: &str, default: &str) -> std::time::Duration {
    rill::parse_duration(&flag(args, name, default))
        .unwrap_or_else(|e| usage_error(&format!("{name}: {e}")))
}

/// Prints `message` after the program's name and exits with code 2 (a usage error).
pub fn usage_error(message: &str) -> ! {
    let program = std::env::args()
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    eprintln!("{program}: {message}");
    std::process::exit(2)
}
