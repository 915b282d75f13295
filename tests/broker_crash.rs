//! Broker → rill → broker under SIGKILL, for each broker this build has (features
//! `redis`, `nats`): `examples/broker_wordcount.rs --totals` (running totals kept by
//! `update_state_by_key`, checkpointed) reads a backlog of lines (written by its own
//! `--feed`) from two inputs at a capped rate and writes every batch's totals back to the
//! broker. It is killed five times at random points, two of them while it catches up on
//! the batch times missed while it was down, and restarted each time from its checkpoint
//! (`get_or_create`). Beside it, an uninterrupted run of the same example reads the same
//! inputs.
//!
//! The rate cap makes the input of batch `i` the same in every run (the `i`-th slice of
//! `PER_BATCH` lines of each input), so the outputs can be checked batch by batch: the
//! killed run's output holds every batch time from its first to its last at least once,
//! a batch written again holds the same totals, and after dropping duplicates by batch
//! time its `i`-th batch holds exactly the uninterrupted run's `i`-th, which is the
//! count of the words of the lines up to that batch's slice: every line counted exactly
//! once, in its own batch, and the last totals those of the whole backlog. Skips without
//! the brokers' servers (`RILL_TEST_REDIS_URL`, `RILL_TEST_NATS_URL`); `RILL_CRASH_SEED`
//! reruns a seed.
#![cfg(any(feature = "redis", feature = "nats"))]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The batch interval of both runs, in ms.
const INTERVAL_MS: u64 = 100;
/// Lines each input gives one batch (the rate cap: `PER_BATCH` per interval).
const PER_BATCH: usize = 2;
/// Lines in each input's backlog: the backlog lasts `LINES / PER_BATCH` batches (10 s).
const LINES: usize = 200;
/// The inputs (partitions).
const INPUTS: usize = 2;
/// Kills of the job; the odd ones (the 2nd and 4th) while it catches up.
const KILLS: usize = 5;

/// What the test needs of a broker.
trait Broker {
    /// The broker's name, for messages.
    fn name(&self) -> &'static str;
    /// Flags naming the broker, its server, the output `output` and the consumer group
    /// (or durable prefix) `group`.
    fn flags(&self, output: &str, group: &str) -> Vec<String>;
    /// The name of input `i` (a stream key, a subject).
    fn input(&self, i: usize) -> String;
    /// The batch time of the newest record of `output`, if any.
    fn newest(&self, output: &str) -> Option<u64>;
    /// The records of `output` in order, as `(batch_time, word, total)`.
    fn read(&self, output: &str) -> Vec<(u64, String, u64)>;
}

/// The line `n` of input `i`.
fn line(i: usize, n: usize) -> String {
    format!("w{} common w{} in{i} n{}", n % 4, n % 7, n % 10)
}

/// The totals after batch `b`: the words of the first `(b + 1) * PER_BATCH` lines of
/// every input (all of them once the backlog is drained).
fn totals_after(b: usize) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for i in 0..INPUTS {
        for n in 0..((b + 1) * PER_BATCH).min(LINES) {
            for w in line(i, n).split(' ') {
                *totals.entry(w.to_string()).or_default() += 1;
            }
        }
    }
    totals
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-broker-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Waits up to 60 s for `done`, failing at once if `job` exited.
fn wait_for(what: &str, job: &mut Child, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        if let Some(status) = job.try_wait().unwrap() {
            panic!("the job exited ({status}) while waiting for {what}");
        }
        assert!(Instant::now() < deadline, "waited 60 s for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill(job: &mut Child) {
    let _ = job.kill(); // SIGKILL
    job.wait().unwrap();
}

/// The output with duplicates dropped: every batch's totals by batch time. A batch time
/// written twice must hold the same total for a word both times.
fn by_batch(
    records: Vec<(u64, String, u64)>,
    run: &str,
) -> (BTreeMap<u64, BTreeMap<String, u64>>, usize) {
    let mut batches: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    let mut duplicates = 0;
    for (time, word, total) in records {
        if let Some(before) = batches.entry(time).or_default().insert(word.clone(), total) {
            assert_eq!(
                before, total,
                "{run}: batch {time} written again with another total of {word}"
            );
            duplicates += 1;
        }
    }
    (batches, duplicates)
}

/// Runs the killed job and the uninterrupted one over a fresh backlog of `broker`'s
/// inputs, and checks their outputs.
fn killed_and_uninterrupted_runs_agree(broker: &impl Broker) {
    let name = broker.name();
    let bin = support::example_with_features("broker_wordcount");
    // The backlog, written by the example's `--feed`.
    for i in 0..INPUTS {
        let mut feed = Command::new(&bin)
            .args(broker.flags("out", "feed"))
            .args(["--streams", &broker.input(i), "--feed"])
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let lines: String = (0..LINES).map(|n| line(i, n) + "\n").collect();
        std::io::Write::write_all(&mut feed.stdin.take().unwrap(), lines.as_bytes()).unwrap();
        assert!(feed.wait().unwrap().success(), "{name}: --feed failed");
    }
    let inputs: Vec<String> = (0..INPUTS).map(|i| broker.input(i)).collect();
    let rate = (PER_BATCH as u64 * 1000 / INTERVAL_MS).to_string();
    let interval = format!("{INTERVAL_MS}ms");
    let (killed_ckpt, ref_ckpt) = (
        temp(&format!("{name}-killed")),
        temp(&format!("{name}-ref")),
    );
    let spawn = |output: &str, group: &str, ckpt: &PathBuf| {
        Command::new(&bin)
            .args(broker.flags(output, group))
            .args(["--streams", &inputs.join(",")])
            .args(["--totals", "--start-at", "earliest"])
            .args(["--max-rate-per-partition", &rate])
            .args(["--batch-interval", &interval])
            .arg("--checkpoint")
            .arg(ckpt)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let t0 = Instant::now();
    let started = now_ms();
    let mut reference = spawn("ref", "ref", &ref_ckpt);
    let mut job = spawn("out", "killed", &killed_ckpt);
    let mut seed = support::crash_seed("broker_crash");
    let mut caught_up_kills = Vec::new();
    for k in 0..KILLS {
        if k % 2 == 1 {
            // The restart came after a long time down: once the job wrote a batch newer
            // than any before it went down, it is catching up; kill it then.
            let before = broker.newest("out");
            wait_for("a batch after the restart", &mut job, || {
                broker.newest("out") > before
            });
            let newest = broker.newest("out").unwrap();
            kill(&mut job);
            let behind = now_ms().saturating_sub(newest);
            if behind >= 3 * INTERVAL_MS {
                caught_up_kills.push(behind);
            }
        } else {
            std::thread::sleep(Duration::from_millis(
                200 + support::xorshift(&mut seed) % 700,
            ));
            kill(&mut job);
        }
        // Down for a while (batch times are missed); long before a kill while catching up.
        let down = if k % 2 == 0 && k + 1 < KILLS {
            2_500 + support::xorshift(&mut seed) % 1_000
        } else {
            support::xorshift(&mut seed) % 800
        };
        std::thread::sleep(Duration::from_millis(down));
        job = spawn("out", "killed", &killed_ckpt);
        eprintln!("{name}: kill {k} at {:?}, down {down} ms", t0.elapsed());
    }
    // Both runs go on past the end of the backlog, and the killed one has caught up.
    let drained = started + (LINES / PER_BATCH) as u64 * INTERVAL_MS + 10 * INTERVAL_MS;
    let caught_up = |output: &str| {
        broker
            .newest(output)
            .is_some_and(|t| t >= drained && t + 5 * INTERVAL_MS >= now_ms())
    };
    wait_for("the killed run to pass the backlog", &mut job, || {
        caught_up("out")
    });
    wait_for(
        "the uninterrupted run to pass the backlog",
        &mut reference,
        || caught_up("ref"),
    );
    eprintln!("{name}: both past the backlog at {:?}", t0.elapsed());
    kill(&mut job);
    kill(&mut reference);

    let (killed, duplicates) = by_batch(broker.read("out"), "killed run");
    let (uninterrupted, ref_duplicates) = by_batch(broker.read("ref"), "uninterrupted run");
    eprintln!("{name}: read at {:?}", t0.elapsed());
    assert_eq!(
        ref_duplicates, 0,
        "the uninterrupted run wrote a batch twice"
    );
    // Every batch time from the first to the last, at least once.
    let times: Vec<u64> = killed.keys().copied().collect();
    for w in times.windows(2) {
        assert_eq!(
            w[1] - w[0],
            INTERVAL_MS,
            "{name}: no output for the batches between {} and {}",
            w[0],
            w[1]
        );
    }
    // Batch by batch, exactly the uninterrupted run's totals, which are those of the
    // lines up to the batch's slice: every line counted once, in its own batch.
    let (killed, uninterrupted): (Vec<_>, Vec<_>) = (
        killed.into_values().collect(),
        uninterrupted.into_values().collect(),
    );
    let n = killed.len().min(uninterrupted.len());
    assert!(n > LINES / PER_BATCH, "{name}: {n} batches compared");
    for i in 0..n {
        assert_eq!(
            killed[i], uninterrupted[i],
            "{name}: batch {i} of the killed run differs from the uninterrupted run's"
        );
        assert_eq!(
            killed[i],
            totals_after(i),
            "{name}: the totals after batch {i}"
        );
    }
    let all = totals_after(LINES / PER_BATCH);
    assert_eq!(killed.last(), Some(&all), "{name}: final totals");
    assert_eq!(uninterrupted.last(), Some(&all));
    eprintln!(
        "{name}: {KILLS} kills, {} while catching up (behind by {caught_up_kills:?} ms); \
         {} batches, {duplicates} records written again",
        caught_up_kills.len(),
        killed.len(),
    );
    assert!(
        !caught_up_kills.is_empty(),
        "{name}: no kill landed while the job was catching up"
    );
    let _ = std::fs::remove_dir_all(&killed_ckpt);
    let _ = std::fs::remove_dir_all(&ref_ckpt);
}

#[cfg(feature = "redis")]
mod redis_broker {
    use super::*;

    /// Redis Streams: inputs and outputs are stream keys of this test process.
    pub(super) struct Redis {
        url: String,
        conn: std::cell::RefCell<redis::Connection>,
    }

    fn key(name: &str) -> String {
        format!("rill-test-{}-crash-{name}", std::process::id())
    }

    impl Redis {
        pub(super) fn new(url: String) -> Redis {
            let mut conn = redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            for k in Self::keys() {
                let _: () = redis::cmd("DEL").arg(k).query(&mut conn).unwrap();
            }
            Redis {
                url,
                conn: std::cell::RefCell::new(conn),
            }
        }

        fn keys() -> Vec<String> {
            let mut keys: Vec<String> = (0..INPUTS).map(|i| key(&format!("in{i}"))).collect();
            keys.extend([key("out"), key("ref")]);
            keys
        }
    }

    impl Drop for Redis {
        fn drop(&mut self) {
            for k in Self::keys() {
                let _: redis::RedisResult<()> =
                    redis::cmd("DEL").arg(k).query(&mut *self.conn.borrow_mut());
            }
        }
    }

    impl Broker for Redis {
        fn name(&self) -> &'static str {
            "redis"
        }

        fn flags(&self, output: &str, group: &str) -> Vec<String> {
            ["--broker", "redis", "--url", &self.url]
                .iter()
                .map(|s| s.to_string())
                .chain([
                    "--output".into(),
                    key(output),
                    "--group".into(),
                    group.into(),
                ])
                .collect()
        }

        fn input(&self, i: usize) -> String {
            key(&format!("in{i}"))
        }

        fn newest(&self, output: &str) -> Option<u64> {
            let last: Vec<(String, BTreeMap<String, String>)> = redis::cmd("XREVRANGE")
                .arg(key(output))
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query(&mut *self.conn.borrow_mut())
                .unwrap();
            last.first().map(|(_, f)| f["batch_time"].parse().unwrap())
        }

        fn read(&self, output: &str) -> Vec<(u64, String, u64)> {
            let entries: Vec<(String, BTreeMap<String, String>)> = redis::cmd("XRANGE")
                .arg(key(output))
                .arg("-")
                .arg("+")
                .query(&mut *self.conn.borrow_mut())
                .unwrap();
            entries
                .into_iter()
                .map(|(_, f)| {
                    (
                        f["batch_time"].parse().unwrap(),
                        f["key"].clone(),
                        f["value"].parse().unwrap(),
                    )
                })
                .collect()
        }
    }
}

#[cfg(feature = "redis")]
#[test]
fn redis_killed_at_random_points_writes_what_an_uninterrupted_run_writes() {
    let Some(url) = support::servers::redis_url() else {
        return;
    };
    killed_and_uninterrupted_runs_agree(&redis_broker::Redis::new(url));
}

#[cfg(feature = "nats")]
mod nats_broker {
    use super::*;
    use rill_runtime::connectors::nats::client::{async_nats, futures_util, tokio};

    use async_nats::jetstream::{self as js, consumer, stream};
    use futures_util::StreamExt;

    /// NATS JetStream: a stream of this test process, `RILL_{pid}_crash`, whose subjects
    /// are the inputs and outputs.
    pub(super) struct Nats {
        url: String,
        rt: tokio::runtime::Runtime,
        js: js::Context,
        name: String,
    }

    impl Nats {
        pub(super) fn new(url: String) -> Nats {
            let name = format!("RILL_{}_crash", std::process::id());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let js = rt.block_on(async {
                let js = js::new(async_nats::connect(&url).await.unwrap());
                let _ = js.delete_stream(&name).await;
                js.create_stream(stream::Config {
                    name: name.clone(),
                    subjects: vec![format!("{name}.>")],
                    ..Default::default()
                })
                .await
                .unwrap();
                js
            });
            Nats { url, rt, js, name }
        }

        fn subject(&self, s: &str) -> String {
            format!("{}.{s}", self.name)
        }

        fn stream(&self) -> stream::Stream {
            self.rt.block_on(self.js.get_stream(&self.name)).unwrap()
        }
    }

    impl Drop for Nats {
        fn drop(&mut self) {
            let _ = self.rt.block_on(self.js.delete_stream(&self.name));
        }
    }

    fn batch_time(headers: Option<&async_nats::HeaderMap>) -> u64 {
        headers
            .and_then(|h| h.get("batch_time"))
            .expect("a batch_time header")
            .as_str()
            .parse()
            .unwrap()
    }

    impl Broker for Nats {
        fn name(&self) -> &'static str {
            "nats"
        }

        fn flags(&self, output: &str, group: &str) -> Vec<String> {
            let mut flags: Vec<String> = ["--broker", "nats", "--url", &self.url]
                .iter()
                .map(|s| s.to_string())
                .collect();
            flags.extend(["--stream".into(), self.name.clone()]);
            flags.extend(["--output".into(), self.subject(output)]);
            flags.extend(["--group".into(), group.into()]);
            flags
        }

        fn input(&self, i: usize) -> String {
            self.subject(&format!("in{i}"))
        }

        fn newest(&self, output: &str) -> Option<u64> {
            let stream = self.stream();
            let last = self
                .rt
                .block_on(stream.get_last_raw_message_by_subject(&self.subject(output)));
            last.ok().map(|m| batch_time(Some(&m.headers)))
        }

        fn read(&self, output: &str) -> Vec<(u64, String, u64)> {
            let stream = self.stream();
            self.rt.block_on(async {
                let mut reader = stream
                    .create_consumer(consumer::pull::Config {
                        filter_subject: self.subject(output),
                        ack_policy: consumer::AckPolicy::None,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                let mut left = reader.info().await.unwrap().num_pending;
                let mut out = Vec::new();
                while left > 0 {
                    let mut batch = reader
                        .fetch()
                        .max_messages(left.min(1000) as usize)
                        .messages()
                        .await
                        .unwrap();
                    while let Some(m) = batch.next().await {
                        let m = m.unwrap();
                        let word = m.headers.as_ref().and_then(|h| h.get("key")).unwrap();
                        out.push((
                            batch_time(m.headers.as_ref()),
                            word.as_str().to_string(),
                            std::str::from_utf8(&m.payload).unwrap().parse().unwrap(),
                        ));
                        left -= 1;
                    }
                }
                out
            })
        }
    }
}

#[cfg(feature = "nats")]
#[test]
fn nats_killed_at_random_points_writes_what_an_uninterrupted_run_writes() {
    let Some(url) = support::servers::nats_url() else {
        return;
    };
    killed_and_uninterrupted_runs_agree(&nats_broker::Nats::new(url));
}
