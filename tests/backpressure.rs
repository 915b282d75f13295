//! Backpressure: a pipeline made slow on purpose is fed faster than it can process for
//! 20 s. The receiver's rate converges to the processing rate, memory stays bounded (TCP
//! pushes back on the sender), and every line sent is counted.

use rill::prelude::*;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[test]
fn the_receiver_slows_to_the_processing_rate() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(100))
        .parallelism(2)
        .backpressure(true)
        .receiver_max_rate(100_000)
        .build()
        .unwrap();
    let counted = Arc::new(AtomicU64::new(0));
    let c = counted.clone();
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0").for_each_batch(move |_, lines| {
            // About 25,000 lines per second at most.
            std::thread::sleep(Duration::from_micros(40) * lines.len() as u32);
            c.fetch_add(lines.len() as u64, Ordering::SeqCst);
        });
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let sender = {
        let (done, sent) = (done.clone(), sent.clone());
        std::thread::spawn(move || {
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            let chunk = "0123456789abcdefghi\n".repeat(1000);
            while !done.load(Ordering::Relaxed) {
                conn.write_all(chunk.as_bytes()).unwrap();
                sent.fetch_add(1000, Ordering::SeqCst);
            }
        })
    };
    let secs = 20;
    std::thread::sleep(Duration::from_secs(secs));
    done.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    let total = sent.load(Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while counted.load(Ordering::SeqCst) < total && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let infos = ctx.batch_infos();
    ctx.stop().unwrap();
    let peak = peak_rss_mib();
    assert_eq!(
        counted.load(Ordering::SeqCst),
        total,
        "every line sent is counted"
    );

    // Over the last 5 s of sending: the rate lines came in at against the rate the
    // pipeline processed them at.
    let first = infos.first().map_or(0, |i| i.time.millis());
    let tail: Vec<_> = infos
        .iter()
        .filter(|i| {
            i.time.millis() > first + (secs - 5) * 1000 && i.time.millis() <= first + secs * 1000
        })
        .collect();
    let records: usize = tail.iter().map(|i| i.records).sum();
    let input_rate = records as f64 / (tail.len() as f64 * 0.1);
    let busy: f64 = tail.iter().map(|i| i.processing_time.as_secs_f64()).sum();
    let processing_rate = records as f64 / busy;
    eprintln!(
        "{} batches ({} in the last 5 s); sent {total} lines; input {input_rate:.0}/s, processing {processing_rate:.0}/s over the last 5 s; peak RSS {peak:.0} MiB",
        infos.len(),
        tail.len()
    );
    assert!(
        input_rate < processing_rate * 1.3 && input_rate > processing_rate * 0.5,
        "input rate {input_rate:.0}/s does not follow the processing rate {processing_rate:.0}/s"
    );
    assert!(peak < 100.0, "peak resident memory {peak:.0} MiB");
}
