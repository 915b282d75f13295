//! Temporary probe.
use nexmark::EventGenerator;
use rill_nexmark::Config;
use rill_nexmark::generator::fast::FastGenerator;
use std::time::Instant;
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n = 5_000_000u64;
    let cfg = Config::new(n, n).nexmark_config();
    let fast = FastGenerator::new(&cfg);
    let t = Instant::now();
    let mut s = 0usize;
    match mode.as_str() {
        "fast" => for i in 0..n { s += match fast.event(i) { rill_nexmark::Event::Bid(b) => b.extra.len(), _ => 1 }; },
        "crate" => for e in EventGenerator::new(cfg.clone()).take(n as usize) { s += match e { rill_nexmark::Event::Bid(b) => b.extra.len(), _ => 1 }; },
        "fastb" => for b in 0..20 { s += fast.events(b * 250_000, (b + 1) * 250_000, 1).len(); },
        _ => for b in 0..20 { s += EventGenerator::new(cfg.clone()).with_offset(b * 250_000).take(250_000).collect::<Vec<_>>().len(); },
    }
    println!("{mode}: {:.2} M/s ({s})", n as f64 / t.elapsed().as_secs_f64() / 1e6);
}
