//! Forecasts and anomaly alerts per sensor from `sensor_id,value` lines on a socket.
//!
//! ```text
//! cargo run --release --example sensor_forecast            # listens on 127.0.0.1:9999
//! printf 'pump1,3.2\npump1,3.4\npump2,10.0\n' | nc localhost 9999
//! ```
//!
//! Every batch it prints an alert for each reading outside its one-step-ahead 95%
//! interval; every `--slide` (default 10 s) it refits an ARIMA model per sensor (order
//! chosen by AICc) and prints the next 5 values with 95% intervals. Malformed lines are
//! skipped. Flags: `--listen ADDR`, `--slide 10s`, and those of `#[rill::main]` (`--help`).

use rill::forecast::ArimaSpec;
use rill::prelude::*;

/// `sensor_id,value`, or nothing for a malformed line.
fn reading(line: &str) -> Option<(&str, f64)> {
    let (id, value) = line.split_once(',')?;
    let value: f64 = value.trim().parse().ok()?;
    (!id.trim().is_empty() && value.is_finite()).then_some((id.trim(), value))
}

/// Where the readings come from and how often models are refitted.
#[derive(rill::clap::Args)]
struct Args {
    /// Listen for `sensor_id,value` lines on ADDR.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    listen: String,
    /// Refit the models and forecast this often.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = rill::parse_duration)]
    slide: Duration,
}

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let slide = args.slide;
    let spec = ArimaSpec::auto(2, 1, 2)
        .constant(true)
        .history(200)
        .horizon(5);
    let alerts_spec = spec.clone();
    stream! { ctx;
        let readings = socket_listen_stream(&args.listen).flat_map(|l| reading(l));
        readings.detect_anomalies(alerts_spec, slide).print_n(20);
        readings.forecast_arima(spec, slide).print_n(20);
    };
    ctx.start()?;
    println!(
        "sensor_forecast: listening on {} for `sensor_id,value` lines",
        args.listen
    );
    Ok(())
}
