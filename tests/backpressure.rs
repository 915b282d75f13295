//! Backpressure: a pipeline made slow on purpose is fed faster than it can process. Once
//! the rate controller has settled, the rate lines come in at follows the processing
//! rate, memory stays bounded (the receiver reads no faster than that, and TCP pushes back
//! on the sender), and every line sent is counted.
//!
//! The test counts batches, not seconds: it waits for the rate controller to settle (a run
//! of batches that took input and started on time), measures the next completed batches,
//! then speeds processing up and waits until every line sent is counted. A loaded machine
//! makes it slower, not wrong; a controller that never settles fails it.

use rill::prelude::*;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

mod support;
use support::wait_until;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Consecutive batches that took input and started on time (within an interval of their
/// batch time): the rate controller has settled.
const SETTLED: usize = 10;
/// The batches measured once it has.
const MEASURED: usize = 50;
/// Batches (of 100 ms) it may take to settle; it takes some 40.
const SETTLE_WITHIN: usize = 300;

/// The index of the first of `SETTLED` batches that took input and started on time.
fn settled_at(infos: &[rill::metrics::BatchInfo], interval: Duration) -> Option<usize> {
    let on_time = |i: &rill::metrics::BatchInfo| i.records > 0 && i.scheduling_delay < interval;
    infos.windows(SETTLED).position(|w| w.iter().all(on_time))
}

#[test]
fn the_receiver_slows_to_the_processing_rate() {
    let interval = Duration::from_millis(100);
    let ctx = StreamingContext::builder()
        .batch_interval(interval)
        .parallelism(2)
        .backpressure(true)
        .receiver_max_rate(100_000)
        .build()
        .unwrap();
    let counted = Arc::new(AtomicU64::new(0));
    // Once the measured batches are done, processing is made fast so the lines still
    // buffered (in the receiver and in the sockets) are counted sooner.
    let slow = Arc::new(AtomicBool::new(true));
    let (c, s) = (counted.clone(), slow.clone());
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0").for_each_batch(move |_, lines| {
            if s.load(Ordering::SeqCst) {
                // About 25,000 lines per second at most.
                std::thread::sleep(Duration::from_micros(40) * lines.len() as u32);
            }
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
    // Batches, not seconds: the controller settles, then `MEASURED` batches are measured.
    let mut measured = Vec::new();
    wait_until("the rate to settle and the measured batches", || {
        let infos = ctx.batch_infos();
        match settled_at(&infos, interval) {
            Some(at) if infos.len() >= at + SETTLED + MEASURED => {
                measured = infos[at + SETTLED..][..MEASURED].to_vec();
                true
            }
            Some(_) => false,
            None => {
                assert!(
                    infos.len() < SETTLE_WITHIN,
                    "the input rate did not settle in {SETTLE_WITHIN} batches: {:?}",
                    infos.iter().map(|i| i.records).collect::<Vec<_>>()
                );
                false
            }
        }
    });
    slow.store(false, Ordering::SeqCst);
    done.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    let total = sent.load(Ordering::SeqCst);
    wait_until("every line sent to be counted", || {
        counted.load(Ordering::SeqCst) >= total
    });
    let batches = ctx.batch_infos().len();
    ctx.stop().unwrap();
    let peak = peak_rss_mib();
    assert_eq!(
        counted.load(Ordering::SeqCst),
        total,
        "every line sent is counted"
    );

    // Over the measured batches: the rate lines came in at against the rate the
    // pipeline processed them at (their ratio is the share of the time it was busy).
    let records: usize = measured.iter().map(|i| i.records).sum();
    let input_rate = records as f64 / (measured.len() as f64 * interval.as_secs_f64());
    let busy: f64 = measured
        .iter()
        .map(|i| i.processing_time.as_secs_f64())
        .sum();
    let processing_rate = records as f64 / busy;
    eprintln!(
        "{batches} batches; sent {total} lines; input {input_rate:.0}/s, processing {processing_rate:.0}/s over {} batches once settled; peak RSS {peak:.0} MiB",
        measured.len()
    );
    assert!(
        input_rate < processing_rate * 1.3 && input_rate > processing_rate * 0.5,
        "input rate {input_rate:.0}/s does not follow the processing rate {processing_rate:.0}/s"
    );
    assert!(peak < 100.0, "peak resident memory {peak:.0} MiB");
}
