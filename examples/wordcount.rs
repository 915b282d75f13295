//! The seed's socket word count: split lines on spaces, count words per batch, print.
//!
//! ```text
//! cargo run --release --example wordcount            # listens on 127.0.0.1:9999
//! echo "hello world hello" | nc localhost 9999       # in another terminal
//! ```
//!
//! Flags: `--listen ADDR` (default `127.0.0.1:9999`), `--connect HOST:PORT` (Spark's
//! direction: connect to a server such as `nc -lk 9999`), `--batch-interval 1s`,
//! `--master local[N]` or `local[*]`, `--parallelism N` (default 2).

use rill::prelude::*;
use rill::source::{Source, socket_listen_stream, socket_text_stream};

mod common;

struct Args {
    listen: String,
    connect: Option<(String, u16)>,
    batch_interval: Duration,
    parallelism: usize,
}

const USAGE: &str = "usage: wordcount [--listen ADDR | --connect HOST:PORT] [--batch-interval 1s] \
                     [--master local[N] | --parallelism N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: "127.0.0.1:9999".into(),
        connect: None,
        batch_interval: Duration::from_secs(1),
        parallelism: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--listen" => args.listen = value,
            "--connect" => {
                let (host, port) = value
                    .rsplit_once(':')
                    .ok_or_else(|| format!("--connect takes HOST:PORT, not `{value}`"))?;
                let port = port
                    .parse()
                    .map_err(|_| format!("`{port}` is not a port"))?;
                args.connect = Some((host.to_string(), port));
            }
            "--batch-interval" => args.batch_interval = rill::parse_duration(&value)?,
            "--parallelism" => {
                args.parallelism = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("--parallelism takes a positive number, not `{value}`")
                })?;
            }
            "--master" => args.parallelism = parse_master(&value)?,
            other => return Err(format!("unknown flag `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

/// `local[N]` or `local[*]`, as spark-submit's `--master`.
fn parse_master(m: &str) -> Result<usize, String> {
    let inner = m
        .strip_prefix("local[")
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| format!("--master takes local[N] or local[*], not `{m}`"))?;
    if inner == "*" {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    }
    inner
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("--master takes local[N] with N > 0, not `{m}`"))
}

fn main() {
    common::init_logging();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("wordcount: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> rill::Result<()> {
    let ctx = StreamingContext::builder()
        .batch_interval(args.batch_interval)
        .parallelism(args.parallelism)
        .build()?;
    // The source is chosen at run time; the pipeline is written once.
    let input: Box<dyn Source<String>> = match &args.connect {
        Some((host, port)) => Box::new(socket_text_stream(host, *port)),
        None => Box::new(socket_listen_stream(&args.listen)),
    };
    stream! { ctx;
        let lines = source(input);
        let counts = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b);
        counts.print();
    }
    common::stop_gracefully_on_signals(&ctx);
    ctx.start()?;
    match (&args.connect, ctx.local_addrs().first()) {
        (Some((host, port)), _) => {
            println!("wordcount: reading lines from {host}:{port} (e.g. `nc -lk {port}`)")
        }
        (None, Some(addr)) => println!(
            "wordcount: listening on {addr}; try `echo \"hello world hello\" | nc {} {}`",
            addr.ip(),
            addr.port()
        ),
        (None, None) => {}
    }
    ctx.await_termination()
}
