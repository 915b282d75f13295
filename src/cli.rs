//! What `#[rill::main]` runs: spark-submit-like flags, logging, signals, the context, the
//! job function, and the exit code a supervisor expects.
//!
//! A job is a function of a [`StreamingContext`] (and, optionally, of the job's own flags,
//! a struct deriving `clap::Args`) that defines pipelines on it:
//!
//! ```no_run
//! use rill::prelude::*;
//!
//! /// The job's own flags, listed by `--help` beside rill's.
//! #[derive(rill::clap::Args)]
//! struct Args {
//!     /// Where to listen for lines.
//!     #[arg(long, default_value = "127.0.0.1:9999")]
//!     listen: String,
//! }
//!
//! #[rill::main(batch_interval = "1s")]
//! fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
//!     stream! { ctx;
//!         let lines = socket_listen_stream(&args.listen);
//!         lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b).print();
//!     }
//!     Ok(())
//! }
//! ```
//!
//! rill's flags: `--master local[N]|local[*]` (worker threads and partitions; also
//! `--parallelism N`), `--batch-interval 1s`, `--checkpoint DIR` (resume from the
//! checkpoint there, as `StreamingContext::get_or_create`), `--log-level LEVEL` (or
//! `RUST_LOG`), `--ui ADDR` (the streaming UI and Prometheus metrics at
//! `http://ADDR/`), `--explain` (print the plans and exit). On a terminal a status
//! line shows batches, input rate and the last processing time. Exit codes: 0 when the job
//! stopped cleanly (SIGINT and SIGTERM stop it gracefully), 1 when it failed, 2 on a
//! usage error (clap's message).

use crate::{Builder, Result, StreamingContext};
use clap::{ArgMatches, Args, Command, FromArgMatches};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The defaults a job sets in `#[rill::main(...)]`, which flags override.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    /// The program's name, for usage and error messages.
    pub name: &'static str,
    /// The batch interval (`"1s"`, `"500ms"`).
    pub batch_interval: &'static str,
    /// `local[N]` or `local[*]`.
    pub master: &'static str,
    /// The checkpoint directory when `--checkpoint` is not given (none: no checkpoints).
    pub checkpoint: Option<&'static str>,
}

/// rill's own flags.
#[derive(Args, Debug)]
struct RillFlags {
    /// Where the job runs: local[N] (N worker threads and partitions), local[*] (one per
    /// core), or local-cluster[N] (N processes of this program on loopback; feature `cluster`).
    #[arg(long, value_name = "MASTER", value_parser = parse_master)]
    master: Option<Master>,
    /// Worker threads and partitions (the same as --master local[N]).
    #[arg(long, value_name = "N", conflicts_with = "master", value_parser = parse_parallelism)]
    parallelism: Option<usize>,
    /// The batch interval, e.g. 1s, 500ms, 2m.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    batch_interval: Option<Duration>,
    /// Checkpoint into DIR, and resume from the checkpoint there if there is one.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// Serve the streaming UI (page, /api/v1/, /metrics) at ADDR, e.g. 127.0.0.1:4040.
    #[arg(long, value_name = "ADDR")]
    ui: Option<String>,
    /// Log level or filter (error, warn, info, debug, trace, or RUST_LOG syntax).
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Print the plans of the job's pipelines (stages, fusion, shuffles) and exit.
    #[arg(long)]
    explain: bool,
    /// The number of processes of the cluster this process is one of (timely's flag).
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "N", requires = "process", value_parser = parse_parallelism)]
    processes: Option<usize>,
    /// This process's index in the cluster, from 0 (timely's flag).
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "I", requires = "processes")]
    process: Option<usize>,
    /// The cluster's addresses, one host:port per line, process 0 first (timely's flag).
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "FILE", requires = "processes")]
    hostfile: Option<PathBuf>,
    /// Worker threads per process of a cluster (timely's flag; default 1).
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "W", value_parser = parse_parallelism)]
    workers: Option<usize>,
}

/// Where a job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Master {
    /// One process with this many worker threads and partitions.
    Local(usize),
    /// This many processes of the program on loopback, each with this many workers
    /// (`local-cluster[N]` or `local-cluster[N,W]`, Spark's test master).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    LocalCluster(usize, usize),
}

/// The flags of a job that has none of its own.
#[derive(Args, Debug, Default)]
pub struct NoArgs {}

/// `local[N]`, `local[*]` or `local-cluster[N[,W]]`, as spark-submit's `--master`.
fn parse_master(m: &str) -> std::result::Result<Master, String> {
    if m.starts_with("local-cluster") {
        return parse_local_cluster(m);
    }
    parse_local(m).map(Master::Local)
}

#[cfg(feature = "cluster")]
fn parse_local_cluster(m: &str) -> std::result::Result<Master, String> {
    match rill_runtime::cluster::parse_master(m) {
        Some((n, w)) => Ok(Master::LocalCluster(n, w.unwrap_or(1))),
        None => Err(format!(
            "expected local-cluster[N] or local-cluster[N,W] with N, W > 0, not `{m}`"
        )),
    }
}

#[cfg(not(feature = "cluster"))]
fn parse_local_cluster(m: &str) -> std::result::Result<Master, String> {
    Err(format!(
        "`{m}` runs the job on several processes, which needs rill's `cluster` feature"
    ))
}

/// `local[N]` or `local[*]`.
fn parse_local(m: &str) -> std::result::Result<usize, String> {
    let inner = m
        .strip_prefix("local[")
        .and_then(|r| r.strip_suffix(']'))
        .or_else(|| (m == "local").then_some("1"))
        .ok_or_else(|| format!("expected local, local[N] or local[*], not `{m}`"))?;
    if inner == "*" {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    }
    parse_parallelism(inner).map_err(|_| format!("expected local[N] with N > 0, not `{m}`"))
}

fn parse_parallelism(n: &str) -> std::result::Result<usize, String> {
    n.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected a positive number, not `{n}`"))
}

fn parse_interval(d: &str) -> std::result::Result<Duration, String> {
    crate::parse_duration(d)
}

/// The command line: rill's flags and the job's, with the job's defaults.
fn command<A: Args>(defaults: &Defaults) -> Command {
    let checkpoint = defaults
        .checkpoint
        .map_or(String::new(), |c| format!(" --checkpoint {c}"));
    let cmd = Command::new(defaults.name).after_help(format!(
        "A rill streaming job; its defaults: --master {} --batch-interval {}{checkpoint}.",
        defaults.master, defaults.batch_interval
    ));
    A::augment_args(RillFlags::augment_args(cmd))
}

/// Parses the command line; a usage error (or `--help`) ends the program as clap does.
fn parse<A: Args + FromArgMatches>(defaults: &Defaults) -> (RillFlags, A) {
    let matches: ArgMatches = command::<A>(defaults).get_matches();
    let both = RillFlags::from_arg_matches(&matches)
        .and_then(|rill| A::from_arg_matches(&matches).map(|job| (rill, job)));
    both.unwrap_or_else(|e| e.exit())
}

fn init_logging(level: Option<&str>) {
    let filter = match level {
        Some(l) => tracing_subscriber::EnvFilter::new(l),
        None => tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
    };
    // A second subscriber (a test that set one) is not an error: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A closed stderr (`2>&1 | head`) must not turn a log line into a panic.
        .log_internal_errors(false)
        .try_init();
}

/// Runs a job: parses the flags (rill's and `A`'s), sets up logging, builds the context
/// (`configure` adds the job's own settings to the builder), lets `job` define its
/// pipelines, starts the context unless `job` did, stops it gracefully on SIGINT or
/// SIGTERM, and waits for it to stop. What `#[rill::main]` calls.
pub fn run<A: Args + FromArgMatches>(
    defaults: Defaults,
    configure: impl FnOnce(Builder, &A) -> Builder,
    job: impl FnOnce(StreamingContext, A) -> Result<()>,
) -> ExitCode {
    let (flags, args) = parse::<A>(&defaults);
    init_logging(flags.log_level.as_deref());
    #[cfg(feature = "cluster")]
    if let Some(Master::LocalCluster(n, w)) = flags.master {
        return supervise(&defaults, n, w);
    }
    match run_parsed(&defaults, flags, args, configure, job) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", defaults.name);
            ExitCode::FAILURE
        }
    }
}

fn run_parsed<A>(
    defaults: &Defaults,
    flags: RillFlags,
    args: A,
    configure: impl FnOnce(Builder, &A) -> Builder,
    job: impl FnOnce(StreamingContext, A) -> Result<()>,
) -> Result<()> {
    let usage = |flag: &str, e: String| crate::Error::Config(format!("{flag}: {e}"));
    let parallelism = match (flags.master, flags.parallelism, cluster_workers(&flags)?) {
        (Some(Master::Local(n)), _, _) | (_, Some(n), _) => n,
        // On a cluster: one partition per worker of every process.
        (_, _, Some(workers)) => workers,
        _ => parse_local(defaults.master).map_err(|e| usage("master", e))?,
    };
    let interval = match flags.batch_interval {
        Some(d) => d,
        None => parse_interval(defaults.batch_interval).map_err(|e| usage("batch_interval", e))?,
    };
    // On a terminal, a status line (batches, rate, last processing time and delay).
    let mut builder = StreamingContext::builder()
        .batch_interval(interval)
        .parallelism(parallelism)
        .status_line(true);
    if let Some(addr) = &flags.ui {
        builder = builder.ui(addr);
    }
    #[cfg(feature = "cluster")]
    if let (Some(n), Some(i)) = (flags.processes, flags.process) {
        let spec = rill_runtime::cluster::ClusterSpec::from_flags(
            n,
            i,
            flags.hostfile.as_deref(),
            flags.workers.unwrap_or(1),
        )?;
        builder = builder.cluster(spec);
    }
    let checkpoint = flags
        .checkpoint
        .clone()
        .or_else(|| defaults.checkpoint.map(PathBuf::from));
    if let Some(dir) = &checkpoint {
        builder = builder.checkpoint_dir(dir);
    }
    let builder = configure(builder, &args);
    let ctx = match &checkpoint {
        Some(dir) => StreamingContext::get_or_create(dir, || builder.build())?,
        None => builder.build()?,
    };
    if let Some(addr) = ctx.ui_addr() {
        eprintln!("{}: streaming UI at http://{addr}/", defaults.name);
    }
    let keep = ctx.clone();
    job(ctx, args)?;
    if flags.explain {
        print!("{}", keep.explain());
        return Ok(());
    }
    stop_gracefully_on_signals(&keep);
    if !keep.is_started() {
        keep.start()?;
    }
    keep.await_termination()
}

/// The number of workers of the whole cluster this process is one of (its processes
/// times their workers), from timely's flags or a launcher's environment.
#[cfg(feature = "cluster")]
fn cluster_workers(flags: &RillFlags) -> Result<Option<usize>> {
    if let Some(n) = flags.processes {
        return Ok(Some(n * flags.workers.unwrap_or(1)));
    }
    let spec = rill_runtime::cluster::ClusterSpec::from_env()?;
    Ok(spec.map(|s| s.processes * s.workers.max(1)))
}

#[cfg(not(feature = "cluster"))]
fn cluster_workers(_: &RillFlags) -> Result<Option<usize>> {
    Ok(None)
}

/// `--master local-cluster[N,W]`: runs N processes of this program (its arguments but
/// `--master`) on loopback as one cluster, and waits for them.
#[cfg(feature = "cluster")]
fn supervise(defaults: &Defaults, processes: usize, workers: usize) -> ExitCode {
    let mut args = Vec::new();
    let mut rest = std::env::args_os().skip(1);
    while let Some(a) = rest.next() {
        if a == "--master" {
            rest.next();
        } else if !a.to_string_lossy().starts_with("--master=") {
            args.push(a);
        }
    }
    match rill_runtime::cluster::run_local_cluster(processes, workers, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", defaults.name);
            ExitCode::FAILURE
        }
    }
}

/// SIGINT and SIGTERM stop `ctx` gracefully: receivers stop, what they received is
/// processed, a last checkpoint is written, and `await_termination` returns.
pub fn stop_gracefully_on_signals(ctx: &StreamingContext) {
    // On a cluster, process 0 stops every process: the others stop after its last batch.
    #[cfg(feature = "cluster")]
    if ctx.cluster_process().is_some_and(|(i, _)| i != 0) {
        if let Err(e) = ctrlc::set_handler(|| {
            eprintln!("stopping with process 0 of the cluster, after its last batch");
        }) {
            eprintln!("cannot handle SIGINT/SIGTERM: {e}");
        }
        return;
    }
    let handle = ctx.stop_handle();
    if let Err(e) = ctrlc::set_handler(move || {
        if let Err(e) = handle.stop_gracefully() {
            eprintln!("graceful stop failed: {e}");
        }
    }) {
        eprintln!("cannot handle SIGINT/SIGTERM: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_forms() {
        assert_eq!(parse_master("local[3]"), Ok(Master::Local(3)));
        assert_eq!(parse_master("local"), Ok(Master::Local(1)));
        assert!(matches!(parse_master("local[*]"), Ok(Master::Local(n)) if n >= 1));
        assert_eq!(
            parse_master("local-cluster[2]").is_ok(),
            cfg!(feature = "cluster")
        );
        assert!(parse_master("local[0]").is_err());
        assert!(parse_master("yarn").is_err());
    }

    #[test]
    fn flags_and_job_flags_parse_together() {
        #[derive(Args, Debug)]
        struct Job {
            #[arg(long)]
            listen: String,
        }
        let defaults = Defaults {
            name: "job",
            batch_interval: "1s",
            master: "local[2]",
            checkpoint: None,
        };
        let m = command::<Job>(&defaults)
            .try_get_matches_from(["job", "--master", "local[4]", "--listen", "x:1"])
            .unwrap();
        let rill = RillFlags::from_arg_matches(&m).unwrap();
        let job = Job::from_arg_matches(&m).unwrap();
        assert_eq!(rill.master, Some(Master::Local(4)));
        assert_eq!(job.listen, "x:1");
        let bad = command::<Job>(&defaults).try_get_matches_from(["job", "--nope"]);
        assert_eq!(bad.unwrap_err().exit_code(), 2);
        let help = command::<Job>(&defaults).render_long_help().to_string();
        assert!(
            help.contains("--listen") && help.contains("--batch-interval"),
            "{help}"
        );
    }
}
