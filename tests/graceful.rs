//! Graceful stop: receivers stop, what they received is processed, a last checkpoint is
//! written, and the process (the examples, on SIGTERM) exits 0.

use rill::prelude::*;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

mod support;
use support::example;

#[test]
fn stop_gracefully_processes_everything_received() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(100))
        .parallelism(2)
        .build()
        .unwrap();
    let counted = Arc::new(AtomicU64::new(0));
    let c = counted.clone();
    let first = std::sync::atomic::AtomicBool::new(true);
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0").for_each_batch(move |_, lines| {
            // The first batch is slow: meanwhile the receiver's buffer fills.
            if first.swap(false, Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(600));
            }
            c.fetch_add(lines.len() as u64, Ordering::SeqCst);
        });
    };
    ctx.start().unwrap();
    let mut conn = std::net::TcpStream::connect(ctx.local_addrs()[0]).unwrap();
    for i in 0..20_000 {
        writeln!(conn, "line {i}").unwrap();
    }
    conn.flush().unwrap();
    // The receiver reads it all into its buffer while the first batch is slow.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        counted.load(Ordering::SeqCst) < 20_000,
        "some lines wait in the buffer"
    );
    let started = Instant::now();
    ctx.stop_gracefully().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    ctx.await_termination().unwrap();
    assert_eq!(
        counted.load(Ordering::SeqCst),
        20_000,
        "every received line is processed"
    );
}

#[test]
fn sigterm_stops_the_example_gracefully_with_a_last_checkpoint() {
    let base = std::env::temp_dir().join(format!("rill-graceful-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (out, ckpt) = (base.join("out"), base.join("ckpt"));
    std::fs::create_dir_all(&out).unwrap();
    let bin = example("running_totals");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut job = std::process::Command::new(bin)
        .args(["--listen", &addr, "--batch-interval", "100ms"])
        .args(["--output", out.join("totals").to_str().unwrap()])
        .args(["--checkpoint", ckpt.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        match std::net::TcpStream::connect(&addr) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the example does not listen: {e}"),
        }
    };
    for i in 0..500 {
        writeln!(conn, "t{i}").unwrap();
    }
    drop(conn);
    std::thread::sleep(Duration::from_millis(50));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &job.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = job.wait().unwrap();
    assert_eq!(status.code(), Some(0), "exits 0 on SIGTERM");
    let mut dirs: Vec<u64> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_prefix("totals-")?
                .strip_suffix(".txt")?
                .parse()
                .ok()
        })
        .collect();
    dirs.sort();
    let last = *dirs.last().expect("outputs were written");
    let mut words = 0;
    for part in std::fs::read_dir(out.join(format!("totals-{last}.txt"))).unwrap() {
        let p = part.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("part-")
        {
            words += std::fs::read_to_string(p).unwrap().lines().count();
        }
    }
    assert_eq!(words, 500, "every received line is in the last totals");
    let checkpoint = ckpt.join(format!("checkpoint-{last:020}"));
    assert!(checkpoint.exists(), "the last batch wrote a checkpoint");
    std::fs::remove_dir_all(&base).unwrap();
}
