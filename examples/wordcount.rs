//! The seed's socket word count: split lines on spaces, count words per batch, print.
//!
//! ```text
//! cargo run --release --example wordcount            # listens on 127.0.0.1:9999
//! echo "hello world hello" | nc localhost 9999       # in another terminal
//! ```
//!
//! Flags (`--help` lists them): `--listen ADDR` (default `127.0.0.1:9999`), `--connect
//! HOST:PORT` (Spark's direction: connect to a server such as `nc -lk 9999`), and rill's
//! own: `--batch-interval 1s`, `--master local[N]` or `local[*]` (default `local[2]`),
//! `--checkpoint DIR`, `--log-level`, `--explain`.

use rill::prelude::*;
use rill::source::{Source, socket_listen_stream, socket_text_stream};

/// Where the lines come from.
#[derive(rill::clap::Args)]
struct Args {
    /// Listen for clients on ADDR (host:port; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    listen: String,
    /// Connect to a server at HOST:PORT instead (as Spark's socketTextStream).
    #[arg(long, value_name = "HOST:PORT", value_parser = host_port)]
    connect: Option<(String, u16)>,
}

fn host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("expected HOST:PORT, not `{s}`"))?;
    let port = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port"))?;
    Ok((host.to_string(), port))
}

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
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
    Ok(())
}
