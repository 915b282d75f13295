//! Graceful stop: receivers stop, what they received is processed, a last checkpoint is
//! written, and the process (the examples, on SIGTERM) exits 0.
//!
//! The tests wait for events (a batch running, a batch cut, the receiver closing a
//! connection it read to the end, a line printed), never for a fixed time, so a loaded
//! machine makes them slower, not wrong.

use rill::prelude::*;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

mod support;
use support::{HUNG, Lines, example, finish_sending, free_addr, wait_exit, wait_until};

#[test]
fn stop_gracefully_processes_everything_received() {
    let interval = Duration::from_millis(400);
    let ctx = StreamingContext::builder()
        .batch_interval(interval)
        .parallelism(2)
        .build()
        .unwrap();
    let counted = Arc::new(AtomicU64::new(0));
    let c = counted.clone();
    // The first batch holds the scheduler until it is released, so batches wait to run
    // and lines wait in the receiver's buffer when the stop begins.
    let (running_tx, running) = mpsc::channel::<Time>();
    let (release, released) = mpsc::channel::<()>();
    let mut first = true;
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0").for_each_batch(move |time, lines| {
            if std::mem::take(&mut first) {
                let _ = running_tx.send(time);
                let _ = released.recv_timeout(HUNG);
            }
            c.fetch_add(lines.len() as u64, Ordering::SeqCst);
        });
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let held = running.recv_timeout(HUNG).expect("the first batch runs");
    // Two more batches cut while the first is held: the scheduler is behind, and what
    // arrives now stays in the receiver's buffer.
    wait_until("two batches cut after the held one", || {
        ctx.last_batch_time() >= held.plus(interval * 2)
    });
    // One write: the receiver reads it in a few large blocks, which its buffer holds.
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(text.as_bytes()).unwrap();
    finish_sending(&mut conn);
    assert_eq!(
        counted.load(Ordering::SeqCst),
        0,
        "nothing was processed yet"
    );

    let stopper = {
        let handle = ctx.stop_handle();
        std::thread::spawn(move || {
            let started = Instant::now();
            handle.stop_gracefully().unwrap();
            started.elapsed()
        })
    };
    // The receiver stops first (its listener closes); then the held batch may go on.
    wait_until("the receiver to stop listening", || {
        std::net::TcpStream::connect(addr).is_err()
    });
    release.send(()).unwrap();
    let took = stopper.join().unwrap();
    // The stop ends with its last batch, not by giving up at its bound (10 intervals and
    // a second, as Spark's gracefulStopTimeout): a stop that waited for the bound did not
    // see its last batch finish. The work takes two intervals or so.
    assert!(
        took < interval * 10,
        "the graceful stop took {took:?}: it timed out instead of finishing its last batch"
    );
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
    let addr = free_addr();
    // Half a second per batch: the graceful stop's bound (10 intervals) leaves room for
    // the last batch's fsynced output and checkpoint on a loaded machine.
    let mut job = std::process::Command::new(bin)
        .args(["--listen", &addr, "--batch-interval", "500ms"])
        .args(["--output", out.join("totals").to_str().unwrap()])
        .args(["--checkpoint", ckpt.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Lines::read(job.stdout.take().unwrap());
    // Printed once the context has started (and the SIGTERM handler is in place).
    stdout.wait_for("the example's listening line", |l| {
        l.contains("listening on")
    });
    let text: String = (0..500).map(|i| format!("t{i}\n")).collect();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.write_all(text.as_bytes()).unwrap();
    finish_sending(&mut conn);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &job.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut job, "the example to exit after SIGTERM");
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
