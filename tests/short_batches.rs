//! 10 ms batches: accepted by the configuration, cut at every multiple of 10 ms, and a
//! socket source's lines all counted through them (no timing is asserted).

use rill::prelude::*;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[test]
fn ten_millisecond_batches_are_accepted_and_count_every_line() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(10))
        .parallelism(2)
        .build()
        .unwrap();
    assert_eq!(ctx.batch_interval(), Duration::from_millis(10));
    let words = Arc::new(AtomicU64::new(0));
    let w = words.clone();
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0")
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(move |_, counts| {
                w.fetch_add(counts.iter().map(|(_, n)| n).sum::<u64>(), Ordering::SeqCst);
            });
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    for _ in 0..50 {
        conn.write_all("a b c d\n".repeat(100).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(3));
    }
    drop(conn);
    let deadline = Instant::now() + Duration::from_secs(20);
    while words.load(Ordering::SeqCst) < 20_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let infos = ctx.batch_infos();
    ctx.stop().unwrap();
    assert_eq!(words.load(Ordering::SeqCst), 20_000);
    assert!(infos.len() >= 2);
    for pair in infos.windows(2) {
        assert_eq!(
            pair[1].time.millis() - pair[0].time.millis(),
            10,
            "one batch every 10 ms"
        );
    }
    assert!(infos.iter().all(|i| i.time.millis() % 10 == 0));
}

#[test]
fn a_batch_interval_that_is_not_whole_milliseconds_is_refused() {
    let e = StreamingContext::builder()
        .batch_interval(Duration::from_micros(10_500))
        .build()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("whole number of milliseconds"), "{e}");
}
