//! Crash test: the checkpointed running-totals job is killed with SIGKILL at five
//! points and restarted each time; at the end every word's total counts every line
//! exactly once, and the output directories are those of an uninterrupted run: one per
//! batch time with no gap, each complete, each the totals of a prefix of the input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

mod support;
use support::totals::{Totals, deliveries, in_order, outputs, wait_outputs};
use support::{example, free_addr};

struct Dirs {
    input: PathBuf,
    staging: PathBuf,
    out: PathBuf,
    ckpt: PathBuf,
}

/// The running-totals example over `source` (its flags), its printed batches appended
/// to `stdout`.
fn start_with(d: &Dirs, source: &[&str], stdout: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(stdout)
        .unwrap();
    Command::new(example("running_totals"))
        .args(source)
        .args(["--output", d.out.join("totals").to_str().unwrap()])
        .args(["--checkpoint", d.ckpt.to_str().unwrap()])
        .args(["--batch-interval", "100ms"])
        .env("RUST_LOG", "warn")
        .stdout(log)
        .spawn()
        .unwrap()
}

fn start(d: &Dirs) -> Child {
    start_with(
        d,
        &["--input", d.input.to_str().unwrap()],
        &d.out.with_file_name("stdout"),
    )
}

/// The words of input file `i` (written atomically into the watched directory).
fn file_words(i: usize) -> String {
    format!("w{} common w{}\ncommon x{}\n", i % 4, i % 7, i)
}

fn totals_of(files: usize) -> Totals {
    let mut t = Totals::new();
    for i in 0..files {
        for w in file_words(i).split_whitespace() {
            *t.entry(w.to_string()).or_default() += 1;
        }
    }
    t
}

#[test]
fn text_file_stream_killed_at_random_points_loses_and_repeats_nothing() {
    let (base, d) = dirs("files");
    let files = 30;
    let mut seed = support::crash_seed("text_file_stream");
    let mut job = start(&d);
    // Files already there when the job first starts are not new (as in Spark): wait
    // for its first batch.
    wait_outputs(&d.out, 1);
    let mut kills = 0;
    for i in 0..files {
        let name = format!("f{i:03}.txt");
        std::fs::write(d.staging.join(&name), file_words(i)).unwrap();
        std::fs::rename(d.staging.join(&name), d.input.join(&name)).unwrap();
        std::thread::sleep(Duration::from_millis(
            20 + support::xorshift(&mut seed) % 150,
        ));
        if support::xorshift(&mut seed) % 5 == 0 {
            job.kill().unwrap(); // SIGKILL
            job.wait().unwrap();
            kills += 1;
            // Down for a while: files arrive meanwhile, batch times are missed.
            std::thread::sleep(Duration::from_millis(support::xorshift(&mut seed) % 800));
            job = start(&d);
        }
    }
    let expected = totals_of(files);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = Totals::new();
    while Instant::now() < deadline {
        if let Some((_, t)) = outputs(&d.out).into_iter().next_back() {
            last = t;
            if last == expected {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    job.kill().unwrap();
    job.wait().unwrap();
    assert_eq!(
        last, expected,
        "final totals count every line exactly once ({kills} kills)"
    );
    // Batch by batch, an uninterrupted run given the same files: the totals after each
    // batch are those of the files counted so far, which only grow.
    let all = outputs(&d.out);
    let prefixes: Vec<Totals> = (0..=files).map(totals_of).collect();
    let mut seen_prefix = 0;
    for (ms, t) in in_order(&all, "files")
        .iter()
        .zip(all.keys())
        .map(|(t, ms)| (ms, t))
    {
        let k = prefixes.iter().position(|p| p == t);
        let k = k.unwrap_or_else(|| {
            panic!("the totals at {ms} ms are not those of any prefix of the input: {t:?}")
        });
        assert!(k >= seen_prefix, "totals never go back in time");
        seen_prefix = k;
    }
    assert_delivered_once(&d, &all, kills);
    std::fs::remove_dir_all(&base).unwrap();
}

/// Every written batch was printed, and none twice except at most the one in flight at
/// each kill.
fn assert_delivered_once(d: &Dirs, written: &BTreeMap<u64, Totals>, kills: usize) {
    let printed = deliveries(&d.out.with_file_name("stdout"));
    for t in written.keys() {
        assert!(
            printed.contains_key(t),
            "batch {t} was written but never printed"
        );
    }
    let repeats: usize = printed.values().map(|n| n - 1).sum();
    assert!(
        repeats <= kills,
        "{repeats} repeated deliveries after {kills} kills: {:?}",
        printed.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
}

fn start_listening(d: &Dirs, addr: &str) -> Child {
    start_with(d, &["--listen", addr], &d.out.with_file_name("stdout"))
}

/// Sends lines `from..` one per line for `span`, connecting once the job listens;
/// returns the next line number.
fn send_for(addr: &str, from: usize, span: Duration) -> usize {
    use std::io::Write;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        match std::net::TcpStream::connect(addr) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the job does not listen on {addr}: {e}"),
        }
    };
    let end = Instant::now() + span;
    let mut i = from;
    while Instant::now() < end {
        if conn.write_all(format!("l{i}\n").as_bytes()).is_err() {
            break;
        }
        i += 1;
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    i
}

#[test]
fn socket_with_the_write_ahead_log_killed_at_random_points_counts_every_logged_line_once() {
    let (base, d) = dirs("wal");
    let addr = free_addr();
    let wal = d.ckpt.join("wal-source0.log");
    let mut logged: std::collections::BTreeSet<String> = Default::default();
    let mut sent = 0;
    let mut seed = support::crash_seed("socket_wal");
    let kills = 5;
    for _ in 0..kills {
        let mut job = start_listening(&d, &addr);
        sent = send_for(
            &addr,
            sent,
            Duration::from_millis(150 + support::xorshift(&mut seed) % 500),
        );
        job.kill().unwrap(); // SIGKILL
        job.wait().unwrap();
        for (_, block) in rill_runtime::checkpoint::wal::read(&wal).unwrap() {
            logged.extend(block);
        }
        // Down for a while: the restarted job catches up on the batch times it missed.
        std::thread::sleep(Duration::from_millis(support::xorshift(&mut seed) % 800));
    }
    let mut job = start_listening(&d, &addr);
    let last_from = sent;
    sent = send_for(&addr, sent, Duration::from_millis(400));
    let final_lines: Vec<String> = (last_from..sent).map(|i| format!("l{i}")).collect();
    // Generous: on a loaded machine the restarted job may take long to catch up; it
    // ends as soon as the last lines sent are counted.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = Totals::new();
    let mut caught_up = false;
    while Instant::now() < deadline {
        if let Some((_, t)) = outputs(&d.out).into_iter().next_back() {
            last = t;
            if final_lines.iter().all(|l| last.contains_key(l)) {
                caught_up = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    job.kill().unwrap();
    job.wait().unwrap();
    assert!(
        caught_up,
        "the restarted job did not count the last lines sent within 120 s"
    );
    assert!(!logged.is_empty(), "the log held lines at the kills");
    for l in logged.iter().chain(&final_lines) {
        assert_eq!(
            last.get(l),
            Some(&1),
            "line {l} reached the log and must count exactly once"
        );
    }
    // Batch by batch, an uninterrupted run given the same lines: every line counts once
    // in every batch after the one that took it, never twice, never dropped later.
    let all = outputs(&d.out);
    let mut before = Totals::new();
    for (ms, t) in all.keys().zip(in_order(&all, "socket")) {
        assert!(
            t.values().all(|n| *n == 1),
            "a line counts twice at {ms} ms"
        );
        assert!(
            before.keys().all(|l| t.contains_key(l)),
            "a line vanished at {ms} ms"
        );
        before = t;
    }
    assert_delivered_once(&d, &all, kills);
    std::fs::remove_dir_all(&base).unwrap();
}

/// The running-totals example over `--queue n`, checkpointing every 10 batches, its
/// printed batches appended to `stdout`.
/// The running-totals example over `--queue n`, checkpointing every 10 batches.
fn start_queue(d: &Dirs, n: usize, stdout: &Path) -> Child {
    start_with(
        d,
        &["--queue", &n.to_string(), "--checkpoint-every", "10"],
        stdout,
    )
}

fn dirs(name: &str) -> (PathBuf, Dirs) {
    let base = std::env::temp_dir().join(format!("rill-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let d = Dirs {
        input: base.join("in"),
        staging: base.join("staging"),
        out: base.join("out"),
        ckpt: base.join("ckpt"),
    };
    for p in [&d.input, &d.staging, &d.out] {
        std::fs::create_dir_all(p).unwrap();
    }
    (base, d)
}

#[test]
fn queue_stream_killed_at_random_points_outputs_what_an_uninterrupted_run_does() {
    const QUEUED: usize = 40;
    const BATCHES: usize = 50;
    // The uninterrupted run.
    let (plain_base, plain) = dirs("queue-plain");
    let mut job = start_queue(&plain, QUEUED, &plain.out.with_file_name("stdout"));
    let expected = in_order(&wait_outputs(&plain.out, BATCHES), "uninterrupted");
    job.kill().unwrap();
    job.wait().unwrap();

    // Killed at random points: during batches, right after a restart while the job
    // catches up on the batch times it missed while down, and between.
    let mut seed = support::crash_seed("queue_stream");
    let (base, d) = dirs("queue-killed");
    let stdout = d.out.with_file_name("stdout");
    let mut kills = 0;
    let mut job = start_queue(&d, QUEUED, &stdout);
    while outputs(&d.out).len() < BATCHES && kills < 8 {
        let up = match support::xorshift(&mut seed) % 3 {
            0 => 20 + support::xorshift(&mut seed) % 150, // mostly within the catch-up
            _ => 200 + support::xorshift(&mut seed) % 900,
        };
        std::thread::sleep(Duration::from_millis(up));
        job.kill().unwrap(); // SIGKILL
        job.wait().unwrap();
        kills += 1;
        // Down for a while: the restarted job has missed batch times to catch up on.
        std::thread::sleep(Duration::from_millis(support::xorshift(&mut seed) % 1200));
        job = start_queue(&d, QUEUED, &stdout);
    }
    let got = in_order(&wait_outputs(&d.out, BATCHES), "killed");
    job.kill().unwrap();
    job.wait().unwrap();
    assert!(kills >= 3, "the job was killed {kills} times");
    assert_eq!(
        got[..BATCHES],
        expected[..BATCHES],
        "batch by batch, the outputs are the uninterrupted run's ({kills} kills, seed above)"
    );
    assert_delivered_once(&d, &outputs(&d.out), kills);
    std::fs::remove_dir_all(&plain_base).unwrap();
    std::fs::remove_dir_all(&base).unwrap();
}
