//! Event time end to end: several event-time operators on one watermarked stream, late
//! records in the streaming UI (`/api/v1/batches`, `/metrics`), the
//! plan that carries them, and recovery: `examples/event_time_counts.rs` (keyed tumbling
//! windows, sessions, global sliding windows in update mode, late records) killed with
//! SIGKILL at random points and restarted from its checkpoint with `get_or_create` gives,
//! batch by batch, the output of an uninterrupted run.

use rill::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration as StdDuration;

mod support;
use support::example_with_features;
use support::totals::{batch_lines, in_order, wait_batches};

#[test]
fn one_watermark_feeds_keyed_global_and_session_windows_in_both_plans() {
    let batches = || {
        vec![
            vec![("a", 1000u64), ("b", 2000), ("a", 12_000)],
            vec![("a", 3000), ("b", 13_000)],
            vec![("b", 30_000)],
            vec![],
        ]
    };
    let fused = StreamingContext::manual(Duration::from_secs(1));
    let f = stream! { fused;
        let w = queue_stream(batches()).with_watermark(|(_, t)| *t, Duration::from_secs(1));
        (w.count_by_key_and_event_window(Duration::from_secs(10), Duration::from_secs(10)).collect(),
         w.count_by_event_window(Duration::from_secs(10), Duration::from_secs(10)).collect(),
         w.count_by_key_and_session_window(Duration::from_secs(5)).collect())
    };
    let unfused = StreamingContext::manual(Duration::from_secs(1));
    let u = stream! { unfused, unfused;
        let w = queue_stream(batches()).with_watermark(|(_, t)| *t, Duration::from_secs(1));
        (w.count_by_key_and_event_window(Duration::from_secs(10), Duration::from_secs(10)).collect(),
         w.count_by_event_window(Duration::from_secs(10), Duration::from_secs(10)).collect(),
         w.count_by_key_and_session_window(Duration::from_secs(5)).collect())
    };
    let plan = fused.explain();
    for op in [
        "with_watermark",
        "count_by_key_and_event_window",
        "count_by_event_window",
        "count_by_key_and_session_window",
    ] {
        assert!(plan.contains(op), "{op} in the plan:\n{plan}");
    }
    for ctx in [&fused, &unfused] {
        ctx.start().unwrap();
        ctx.advance(4).unwrap();
        ctx.stop().unwrap();
    }
    let sorted = |mut v: Vec<Vec<(EventWindow, String, u64)>>| {
        v.iter_mut().for_each(|b| b.sort());
        v
    };
    let w = |a: u64, b: u64| EventWindow::new(a * 1000, b * 1000);
    let keyed = sorted(f.0.take());
    // Batch 2 (watermark 11 s) closes [0, 10) with a at 1 s and b at 2 s; a at 3 s is
    // late. Batch 4 (watermark 29 s) closes [10, 20).
    assert_eq!(
        keyed,
        vec![
            vec![],
            vec![(w(0, 10), "a".into(), 1), (w(0, 10), "b".into(), 1)],
            vec![],
            vec![(w(10, 20), "a".into(), 1), (w(10, 20), "b".into(), 1)],
        ]
    );
    assert_eq!(sorted(u.0.take()), keyed);
    let global = f.1.take();
    assert_eq!(
        global,
        vec![vec![], vec![(w(0, 10), 2)], vec![], vec![(w(10, 20), 2)]]
    );
    assert_eq!(u.1.take(), global);
    let sessions = sorted(f.2.take());
    assert_eq!(
        sessions,
        vec![
            vec![],
            // Watermark 11 s: a's [1, 6) and b's [2, 7) close; a at 3 s is late.
            vec![(w(1, 6), "a".into(), 1), (w(2, 7), "b".into(), 1)],
            vec![],
            // Watermark 29 s: a's [12, 17) and b's [13, 18).
            vec![(w(12, 17), "a".into(), 1), (w(13, 18), "b".into(), 1)],
        ]
    );
    assert_eq!(sorted(u.2.take()), sessions);
    assert_eq!(
        fused
            .batch_infos()
            .iter()
            .map(|b| b.late_records)
            .collect::<Vec<_>>(),
        vec![0, 3, 0, 0],
        "a at 3 s is late for the keyed, the global and the session windows"
    );
}

type Lines = Collected<String>;

/// Keyed windows, sessions and a global count of one watermarked stream as lines, on a
/// manual clock at `parallelism`, checkpointed every 2 batches in `ckpt`.
fn recoverable(ckpt: &Path, parallelism: usize) -> rill::Result<(StreamingContext, Lines)> {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(parallelism)
        .manual_clock()
        .checkpoint_dir(ckpt)
        .checkpoint_interval(Duration::from_secs(2))
        .build()?;
    let batches: Vec<Vec<(String, u64)>> = (0..10u64)
        .map(|b| {
            // Event time about 3 s per batch, out of order within a batch, and from
            // batch 3 on one record 8 s behind: late.
            let mut rs: Vec<(String, u64)> = (0..5u64)
                .map(|i| (format!("k{}", (b + i) % 3), 1000 * (b * 3 + i * 2 % 5)))
                .collect();
            if b >= 3 {
                rs.push(("k0".to_string(), 1000 * (b * 3 - 8)));
            }
            rs
        })
        .collect();
    let lines = stream! { ctx;
        let w = queue_stream(batches).with_watermark(|(_, t)| *t, Duration::from_secs(2));
        let keyed = w.reduce_by_key_and_event_window(|a, b| a.max(b), Duration::from_secs(6), Duration::from_secs(3));
        let sessions = w.count_by_key_and_session_window(Duration::from_secs(2), Emit::update());
        let all = w.reduce_by_event_window(|a, b| if a.1 >= b.1 { a } else { b }, Duration::from_secs(5), Duration::from_secs(5));
        union(
            keyed.map(|(w, k, t)| format!("{w} {k} {t}")),
            sessions.map(|(w, k, n)| format!("session {w} {k} {n}")),
            all.map(|(w, (k, t))| format!("all {w} {k} {t}")),
            keyed.late_records().map(|(k, t)| format!("late {k} {t}"))
        )
        .collect()
    };
    Ok((ctx, lines))
}

fn sorted_lines(batches: Vec<Vec<String>>) -> Vec<Vec<String>> {
    batches
        .into_iter()
        .map(|mut b| {
            b.sort();
            b
        })
        .collect()
}

#[test]
fn event_time_state_resumes_exactly_at_another_parallelism() {
    let temp = |name: &str| {
        let d = std::env::temp_dir().join(format!("rill-event-time-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    };
    let plain = temp("resume-plain");
    let (ctx, lines) = recoverable(&plain, 2).unwrap();
    ctx.start().unwrap();
    ctx.advance(10).unwrap();
    let expected = sorted_lines(lines.take());
    drop(ctx);
    assert!(expected.iter().flatten().any(|l| l.starts_with("late ")));
    assert!(expected.iter().flatten().any(|l| l.starts_with("all ")));

    // Stopped after batch 5 (snapshots at 2 s and 4 s; batch 5 only in the log), then
    // resumed at parallelism 3: batch 5 is recomputed for its state, batches 6 to 10 run.
    let ckpt = temp("resume-crash");
    let (ctx, lines) = recoverable(&ckpt, 2).unwrap();
    ctx.start().unwrap();
    ctx.advance(5).unwrap();
    let mut got = sorted_lines(lines.take());
    drop(ctx);
    let mut handle = None;
    let ctx = StreamingContext::get_or_create(&ckpt, || {
        let (ctx, lines) = recoverable(&ckpt, 3)?;
        handle = Some(lines);
        Ok(ctx)
    })
    .unwrap();
    let lines = handle.expect("the job was defined");
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert!(lines.take().is_empty(), "batch 5's outputs completed");
    ctx.advance(5).unwrap();
    got.extend(sorted_lines(lines.take()));
    assert_eq!(got, expected);
    drop(ctx);
    let _ = std::fs::remove_dir_all(&plain);
    let _ = std::fs::remove_dir_all(&ckpt);
}

/// The body of `GET path` from the streaming UI at `addr`.
fn get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(StdDuration::from_secs(30)))
        .unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn late_records_are_counted_in_the_streaming_ui() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .ui("127.0.0.1:0")
        .build()
        .unwrap();
    let _out = stream! { ctx;
        queue_stream(vec![vec![("a", 20_000u64)], vec![("b", 3000), ("c", 9000)], vec![("d", 1000)]])
            .with_watermark(|(_, t)| *t, Duration::from_secs(0))
            .count_by_key_and_event_window(Duration::from_secs(10), Duration::from_secs(10))
            .collect()
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    let addr = ctx.ui_addr().expect("the UI listens");
    let batches = get(addr, "/api/v1/batches");
    let late: Vec<&str> = batches.matches("\"late_records\":").collect();
    assert_eq!(late.len(), 3, "{batches}");
    for n in [
        "\"late_records\":0",
        "\"late_records\":2",
        "\"late_records\":1",
    ] {
        assert!(batches.contains(n), "{n} in {batches}");
    }
    let metrics = get(addr, "/metrics");
    assert!(
        metrics.lines().any(|l| l == "rill_late_records_total 3"),
        "{metrics}"
    );
    ctx.stop().unwrap();
}

struct Dirs {
    out: PathBuf,
    ckpt: PathBuf,
}

fn dirs(name: &str) -> (PathBuf, Dirs) {
    let base = std::env::temp_dir().join(format!("rill-event-time-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let d = Dirs {
        out: base.join("out"),
        ckpt: base.join("ckpt"),
    };
    std::fs::create_dir_all(&d.out).unwrap();
    (base, d)
}

/// The example over `queued` batches of bids, checkpointing every `every` batches.
fn start(d: &Dirs, queued: usize, every: u64) -> Child {
    Command::new(example_with_features("event_time_counts"))
        .args(["--queue", &queued.to_string()])
        .args(["--checkpoint-every", &every.to_string()])
        .args(["--output", d.out.join("counts").to_str().unwrap()])
        .args(["--checkpoint", d.ckpt.to_str().unwrap()])
        .args(["--batch-interval", "100ms"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Complete output directories `counts-<ms>.txt`, each as its sorted lines (strings
/// are written as `print()` shows them, quoted), by time.
fn outputs(out: &Path) -> BTreeMap<u64, Vec<String>> {
    let (mut all, _) = batch_lines(out, "counts");
    for lines in all.values_mut() {
        for l in lines.iter_mut() {
            *l = l.trim_matches('"').to_string();
        }
        lines.sort();
    }
    all
}

/// Waits until `out` holds at least `n` batch directories; returns them in batch order,
/// checked contiguous (one per 100 ms batch).
fn wait_outputs(out: &Path, n: usize, what: &str) -> Vec<Vec<String>> {
    in_order(&wait_batches(n, what, || outputs(out)), what)
}

#[test]
fn event_time_state_killed_at_random_points_outputs_what_an_uninterrupted_run_does() {
    const QUEUED: usize = 40;
    const BATCHES: usize = 50;
    let (plain_base, plain) = dirs("plain");
    let mut job = start(&plain, QUEUED, 3);
    let expected = wait_outputs(&plain.out, BATCHES, "uninterrupted");
    job.kill().unwrap();
    job.wait().unwrap();
    // The run emits windows, sessions and late counts (else it would prove little).
    let all: Vec<&String> = expected.iter().flatten().collect();
    for kind in ["window ", "session ", "all ", "late 1"] {
        assert!(
            all.iter().any(|l| l.starts_with(kind)),
            "the uninterrupted run has `{kind}` lines"
        );
    }

    // Killed at random points: during batches, right after a restart while the job
    // catches up on the batch times it missed while down, and between. Each start
    // checkpoints every 1 to 3 batches: with a snapshot after most batches, the batch in
    // flight at a kill is usually the first one recomputed, and it runs its outputs
    // again, so what it restored (the watermark above all) shows in them.
    let mut seed = support::crash_seed("event_time");
    let (base, d) = dirs("killed");
    let mut kills = 0;
    let mut job = start(&d, QUEUED, 1);
    while outputs(&d.out).len() < BATCHES && kills < 8 {
        let up = match support::xorshift(&mut seed) % 3 {
            0 => 20 + support::xorshift(&mut seed) % 150,
            _ => 200 + support::xorshift(&mut seed) % 900,
        };
        std::thread::sleep(StdDuration::from_millis(up));
        job.kill().unwrap(); // SIGKILL
        job.wait().unwrap();
        kills += 1;
        std::thread::sleep(StdDuration::from_millis(
            support::xorshift(&mut seed) % 1200,
        ));
        job = start(&d, QUEUED, 1 + support::xorshift(&mut seed) % 3);
    }
    let got = wait_outputs(&d.out, BATCHES, "killed");
    job.kill().unwrap();
    job.wait().unwrap();
    assert!(kills >= 3, "the job was killed {kills} times");
    assert_eq!(
        got[..BATCHES],
        expected[..BATCHES],
        "batch by batch, the outputs are the uninterrupted run's ({kills} kills, seed above)"
    );
    std::fs::remove_dir_all(&plain_base).unwrap();
    std::fs::remove_dir_all(&base).unwrap();
}
