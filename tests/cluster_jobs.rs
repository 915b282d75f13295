//! The examples on a cluster of processes (`--master local-cluster[2]`, feature
//! `cluster`): the seed's word count across two processes counts every word once; a
//! process that dies stops the cluster with an error naming it; the checkpointed running
//! totals, one process SIGKILLed at random points and the cluster restarted each time,
//! write what an uninterrupted run writes, which is what a local run writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::totals::{Totals, deliveries, in_order, outputs, wait_outputs};
use support::{Lines, example_with_features, wait_exit};

/// The OS process of cluster process `index` under supervisor `pid` (found by the
/// environment the supervisor gave it).
fn cluster_process(pid: u32, index: usize) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children
        .split_whitespace()
        .filter_map(|c| c.parse::<u32>().ok())
        .find(|c| {
            std::fs::read(format!("/proc/{c}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|v| v == format!("RILL_CLUSTER_PROCESS={index}").as_bytes())
            })
        })
}

/// Waits until the supervisor `pid` runs cluster process `index`; returns its pid.
fn wait_cluster_process(pid: u32, index: usize) -> u32 {
    let mut found = None;
    support::wait_until(&format!("cluster process {index}"), || {
        found = cluster_process(pid, index);
        found.is_some()
    });
    found.unwrap_or_default()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

/// `(word, count)` as `print()` writes it.
fn count_line(line: &str) -> Option<(String, u64)> {
    let (w, n) = line
        .strip_prefix("(\"")?
        .strip_suffix(')')?
        .split_once("\", ")?;
    Some((w.to_string(), n.parse().ok()?))
}

#[test]
fn the_word_count_across_two_processes_counts_every_word_once() {
    let mut job = Command::new(example_with_features("wordcount"))
        .args(["--master", "local-cluster[2]", "--listen", "127.0.0.1:0"])
        .args(["--batch-interval", "200ms"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::read(job.stdout.take().unwrap());
    let ready = lines.wait_for("the listening address", |l| l.contains("listening on"));
    let addr = ready
        .split_whitespace()
        .nth(3)
        .map(|a| a.trim_end_matches(';').to_string())
        .unwrap();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    // Seven words: print() shows the first ten records of a batch, as Spark's does.
    for i in 0..300 {
        let line = format!("hello world w{} hello\n", i % 5);
        for w in line.split_whitespace() {
            *expected.entry(w.to_string()).or_default() += 1;
        }
        std::io::Write::write_all(&mut conn, line.as_bytes()).unwrap();
    }
    support::finish_sending(&mut conn);
    // Every batch prints its own counts: over the batches, each word adds up to what
    // was sent, never more (a line counted on both processes would show).
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    while got != expected {
        let line = lines.wait_for("the counts", |l| count_line(l).is_some());
        let (w, n) = count_line(&line).unwrap();
        *got.entry(w).or_default() += n;
        for (w, n) in &got {
            assert!(
                n <= expected.get(w).unwrap_or(&0),
                "{w} counted {n} times: {got:?}"
            );
        }
    }
    signal(job.id(), "-INT");
    let status = wait_exit(&mut job, "the cluster to stop on SIGINT");
    assert!(status.success(), "the supervisor exited with {status}");
}

#[test]
fn a_process_that_dies_stops_the_cluster_with_its_name() {
    let mut job = Command::new(example_with_features("wordcount"))
        .args(["--master", "local-cluster[2]", "--listen", "127.0.0.1:0"])
        .args(["--batch-interval", "100ms"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Lines::read(job.stderr.take().unwrap());
    let victim = wait_cluster_process(job.id(), 1);
    // Let it run a few batches first.
    std::thread::sleep(Duration::from_millis(600));
    signal(victim, "-KILL");
    let started = Instant::now();
    let line = stderr.wait_for("the supervisor's error", |l| l.contains("process 1"));
    let status = wait_exit(&mut job, "the supervisor to exit");
    assert!(!status.success(), "the cluster failed: {line}");
    assert!(line.contains("SIGKILL"), "{line}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the others stopped only after {:?}",
        started.elapsed()
    );
    assert!(
        cluster_process(job.id(), 0).is_none(),
        "process 0 was left running"
    );
}

struct Dirs {
    out: PathBuf,
    ckpt: PathBuf,
    stdout: PathBuf,
}

fn dirs(name: &str) -> (PathBuf, Dirs) {
    let base = std::env::temp_dir().join(format!("rill-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("out")).unwrap();
    let d = Dirs {
        out: base.join("out"),
        ckpt: base.join("ckpt"),
        stdout: base.join("stdout"),
    };
    (base, d)
}

/// The running-totals example over `--queue n` on `master`, checkpointing every 10
/// batches of 100 ms, its printed batches appended to `d.stdout`.
fn running_totals(d: &Dirs, n: usize, master: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&d.stdout)
        .unwrap();
    Command::new(example_with_features("running_totals"))
        .args(["--queue", &n.to_string(), "--checkpoint-every", "10"])
        .args(["--master", master])
        .args(["--output", d.out.join("totals").to_str().unwrap()])
        .args(["--checkpoint", d.ckpt.to_str().unwrap()])
        .args(["--batch-interval", "100ms"])
        .env("RUST_LOG", "warn")
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The first `batches` outputs of an uninterrupted run on `master`.
fn uninterrupted(name: &str, master: &str, queued: usize, batches: usize) -> Vec<Totals> {
    let (base, d) = dirs(name);
    let mut job = running_totals(&d, queued, master);
    let all = in_order(&wait_outputs(&d.out, batches), name);
    signal(job.id(), "-INT");
    wait_exit(&mut job, "the job to stop");
    let _ = std::fs::remove_dir_all(&base);
    all[..batches].to_vec()
}

fn remove(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
}

#[test]
fn running_totals_with_a_process_killed_at_random_points_write_an_uninterrupted_runs_outputs() {
    const QUEUED: usize = 40;
    const BATCHES: usize = 50;
    let local = uninterrupted("local", "local[2]", QUEUED, BATCHES);
    let cluster = uninterrupted("plain", "local-cluster[2]", QUEUED, BATCHES);
    assert_eq!(cluster, local, "the cluster's outputs are a local run's");

    let mut seed = support::crash_seed("cluster running totals");
    let (base, d) = dirs("killed");
    let mut kills = 0;
    let mut job = running_totals(&d, QUEUED, "local-cluster[2]");
    while outputs(&d.out).len() < BATCHES && kills < 6 {
        let victim = (support::xorshift(&mut seed) % 2) as usize;
        let pid = wait_cluster_process(job.id(), victim);
        std::thread::sleep(Duration::from_millis(
            150 + support::xorshift(&mut seed) % 900,
        ));
        signal(pid, "-KILL");
        let status = wait_exit(&mut job, "the supervisor after a kill");
        assert!(!status.success(), "the cluster reported the lost process");
        kills += 1;
        std::thread::sleep(Duration::from_millis(support::xorshift(&mut seed) % 800));
        job = running_totals(&d, QUEUED, "local-cluster[2]");
    }
    let got = in_order(&wait_outputs(&d.out, BATCHES), "killed");
    signal(job.id(), "-INT");
    wait_exit(&mut job, "the cluster to stop");
    assert!(kills >= 2, "a process was killed {kills} times");
    assert_eq!(
        got[..BATCHES],
        cluster[..],
        "batch by batch, the outputs are the uninterrupted run's ({kills} kills, seed above)"
    );
    // Every written batch was printed once, but the one in flight at each kill.
    let printed = deliveries(&d.stdout);
    let repeats: usize = printed.values().map(|n| n - 1).sum();
    assert!(
        repeats <= kills,
        "{repeats} repeated deliveries after {kills} kills"
    );
    remove(&base);
}

#[test]
fn a_clusters_checkpoint_is_resumed_only_by_as_many_processes() {
    let (base, d) = dirs("rescale");
    let mut job = running_totals(&d, 40, "local-cluster[2]");
    wait_outputs(&d.out, 15); // a checkpoint every 10 batches: the manifest lists one
    signal(job.id(), "-INT");
    assert!(wait_exit(&mut job, "the cluster to stop").success());
    for (master, says) in [
        ("local-cluster[3]", "written by a cluster of 2 processes"),
        ("local[2]", "resume it on a cluster of 2"),
    ] {
        let out = Command::new(example_with_features("running_totals"))
            .args(["--queue", "40", "--master", master])
            .args(["--output", d.out.join("totals").to_str().unwrap()])
            .args(["--checkpoint", d.ckpt.to_str().unwrap()])
            .args(["--batch-interval", "100ms"])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{master} resumed it: {stderr}");
        assert!(stderr.contains(says), "{master}: {stderr}");
    }
    remove(&base);
}
