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
//! skipped. Flags: `--listen ADDR`, `--batch-interval 1s`, `--slide 10s`.

use rill::forecast::ArimaSpec;
use rill::prelude::*;

mod common;

/// `sensor_id,value`, or nothing for a malformed line.
fn reading(line: &str) -> Option<(&str, f64)> {
    let (id, value) = line.split_once(',')?;
    let value: f64 = value.trim().parse().ok()?;
    (!id.trim().is_empty() && value.is_finite()).then_some((id.trim(), value))
}

fn main() {
    common::init_logging();
    if let Err(e) = run() {
        eprintln!("sensor_forecast: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen = common::flag(&args, "--listen", "127.0.0.1:9999");
    let interval = common::duration_flag(&args, "--batch-interval", "1s");
    let slide = common::duration_flag(&args, "--slide", "10s");
    let spec = ArimaSpec::auto(2, 1, 2)
        .constant(true)
        .history(200)
        .horizon(5);
    let ctx = StreamingContext::builder()
        .batch_interval(interval)
        .parallelism(2)
        .build()?;
    let alerts_spec = spec.clone();
    stream! { ctx;
        let readings = socket_listen_stream(&listen).flat_map(|l| reading(l));
        readings.detect_anomalies(alerts_spec, slide).print_n(20);
        readings.forecast_arima(spec, slide).print_n(20);
    };
    common::stop_gracefully_on_signals(&ctx);
    ctx.start()?;
    println!("sensor_forecast: listening on {listen} for `sensor_id,value` lines");
    ctx.await_termination()?;
    Ok(())
}
