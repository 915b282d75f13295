//! User-written sources and sinks through the public traits (`rill::source`,
//! `rill::sink`), registered the way generated code registers the built-in ones.

use rill::__private::{register_job, sink_output, source, write_to};
use rill::Error;
use rill::prelude::*;
use rill::sink::Sink;
use rill::source::{
    Receiver, ReplayableSource, Store, queue_stream, receiver_stream, replayable_stream,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

type Seen<T> = Arc<Mutex<Vec<T>>>;

/// A job that appends every record of `source` to the returned list (outputs only:
/// a batch recovery recomputes for its state alone adds nothing).
fn collect<T: Send + 'static>(
    ctx: &StreamingContext,
    source: rill_runtime::sources::SourceHandle<T>,
) -> Seen<T> {
    let seen = Seen::default();
    let out = seen.clone();
    register_job(ctx, "pipeline", "user\n", move |b| {
        let parts = source.take(b);
        if b.runs_outputs() {
            out.lock().unwrap().extend(parts.into_iter().flatten());
        }
        Ok(())
    });
    seen
}

/// Advances the manual clock until `done` or 10 s passed.
fn advance_until(ctx: &StreamingContext, done: impl Fn() -> bool) -> rill::Result<()> {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        std::thread::sleep(Duration::from_millis(5));
        ctx.advance(1)?;
    }
    Ok(())
}

/// Runs batches until `n` lines arrived and two more, stops, and checks the lines are
/// `0..n`, each once.
fn assert_every_line_once(ctx: &StreamingContext, seen: &Seen<String>, n: usize) {
    advance_until(ctx, || seen.lock().unwrap().len() >= n).unwrap();
    ctx.advance(2).unwrap();
    ctx.stop().unwrap();
    let mut lines: Vec<usize> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, (0..n).collect::<Vec<_>>());
}

/// Stores `n` numbered lines, one by one and in blocks, then idles until stopped.
struct Numbers(usize);

impl Receiver for Numbers {
    fn on_start(&mut self, store: &Store) -> rill::Result<()> {
        let half = self.0 / 2;
        for i in 0..half {
            assert!(store.store(i.to_string()));
        }
        assert!(store.store_many((half..self.0).map(|i| i.to_string())));
        Ok(())
    }
    fn on_stop(&mut self) {}
}

#[test]
fn every_line_a_user_receiver_stores_is_counted_once() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(100))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let seen = collect(&ctx, source(&ctx, receiver_stream(Numbers(5000))));
    ctx.start().unwrap();
    assert_every_line_once(&ctx, &seen, 5000);
}

struct Panics;

impl Receiver for Panics {
    fn on_start(&mut self, _store: &Store) -> rill::Result<()> {
        panic!("the user's receiver breaks");
    }
    fn on_stop(&mut self) {}
}

#[test]
fn a_receiver_that_panics_ends_the_context_with_thread_panicked() {
    let ctx = StreamingContext::manual(Duration::from_millis(100));
    let _seen = collect(&ctx, source(&ctx, receiver_stream(Panics)));
    ctx.start().unwrap();
    let err = advance_until(&ctx, || false).unwrap_err();
    match err {
        Error::ThreadPanicked { message, .. } => {
            assert!(message.contains("the user's receiver breaks"), "{message}")
        }
        other => panic!("expected ThreadPanicked, got {other:?}"),
    }
    assert!(matches!(ctx.stop(), Err(Error::ThreadPanicked { .. })));
}

/// Fails its first start (an error, then a restart asked from a thread of its own),
/// stores a line from the third.
struct Flaky {
    starts: Arc<AtomicUsize>,
    stops: Arc<AtomicUsize>,
}

impl Receiver for Flaky {
    fn on_start(&mut self, store: &Store) -> rill::Result<()> {
        match self.starts.fetch_add(1, Ordering::SeqCst) {
            0 => Err(Error::Config("cannot connect".into())),
            1 => {
                let store = store.clone();
                std::thread::spawn(move || store.restart("the connection broke"));
                Ok(())
            }
            n => {
                store.store(format!("start {n}"));
                Ok(())
            }
        }
    }
    fn on_stop(&mut self) {
        self.stops.fetch_add(1, Ordering::SeqCst);
    }
    fn restart_delay(&self) -> Duration {
        Duration::from_millis(10)
    }
}

#[test]
fn restart_runs_on_stop_then_on_start_again() {
    let ctx = StreamingContext::manual(Duration::from_millis(100));
    let (starts, stops) = (Arc::default(), Arc::default());
    let flaky = Flaky {
        starts: Arc::clone(&starts),
        stops: Arc::clone(&stops),
    };
    let seen = collect(&ctx, source(&ctx, receiver_stream(flaky)));
    ctx.start().unwrap();
    advance_until(&ctx, || !seen.lock().unwrap().is_empty()).unwrap();
    ctx.stop().unwrap();
    assert_eq!(*seen.lock().unwrap(), ["start 2"]);
    assert_eq!(starts.load(Ordering::SeqCst), 3);
    // Before each restart, and at the stop.
    assert_eq!(stops.load(Ordering::SeqCst), 3);
}

/// The numbers from 0 on, three a batch.
struct Counter {
    next: u64,
}

impl ReplayableSource<u64> for Counter {
    type Position = u64;
    fn position(&self) -> u64 {
        self.next
    }
    fn seek(&mut self, to: &u64) -> rill::Result<()> {
        self.next = *to;
        Ok(())
    }
    fn cut(&mut self, _time: Time) -> rill::Result<Vec<u64>> {
        let from = self.next;
        self.next += 3;
        Ok((from..self.next).collect())
    }
    fn read(&mut self, from: &u64, to: &u64) -> rill::Result<Vec<u64>> {
        Ok((*from..*to).collect())
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-user-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn counter_job(ckpt: &Path) -> (StreamingContext, Seen<u64>) {
    let mut seen = None;
    let ctx = StreamingContext::get_or_create(ckpt, || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .checkpoint_dir(ckpt)
            .checkpoint_interval(Duration::from_secs(2))
            .build()?;
        seen = Some(collect(
            &ctx,
            source(&ctx, replayable_stream(Counter { next: 0 })),
        ));
        Ok(ctx)
    })
    .unwrap();
    (ctx, seen.unwrap())
}

#[test]
fn a_replayable_source_recovered_from_a_checkpoint_continues_from_its_position() {
    let ckpt = temp("replayable");
    let (ctx, seen) = counter_job(&ckpt);
    ctx.start().unwrap();
    // Five batches; the checkpoint of the fourth is the newest.
    ctx.advance(5).unwrap();
    ctx.stop().unwrap();
    let before = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(before, (0..15).collect::<Vec<_>>());

    let (ctx, seen) = counter_job(&ckpt);
    ctx.start().unwrap();
    // The first batch after the checkpoint's is the fifth, which completed before the
    // stop: it is recut from its logged range for its state, not output again; then
    // the source goes on from where it was.
    ctx.advance(3).unwrap();
    ctx.stop().unwrap();
    assert_eq!(*seen.lock().unwrap(), (15..21).collect::<Vec<_>>());
    std::fs::remove_dir_all(&ckpt).unwrap();
}

/// Records what the context asks of it.
#[derive(Default)]
struct Journal(Seen<String>);

impl Sink<u32> for Journal {
    fn write(&mut self, time: Time, records: Vec<u32>) -> rill::Result<()> {
        let sum: u32 = records.iter().sum();
        self.0
            .lock()
            .unwrap()
            .push(format!("write {} {sum}", time.millis()));
        Ok(())
    }
    fn commit(&mut self, time: Time) -> rill::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push(format!("commit {}", time.millis()));
        Ok(())
    }
}

/// A job writing a queue to a [`Journal`], and a second output failing on its
/// `fail_on`th batch.
fn sink_job(fail_on: Option<usize>) -> (StreamingContext, Seen<String>) {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let journal = Journal::default();
    let events = journal.0.clone();
    let input = source(&ctx, queue_stream(vec![vec![1u32, 2], vec![3], vec![]]));
    let sink = sink_output(&ctx, journal);
    register_job(&ctx, "pipeline", "user\n", move |b| {
        let records = input.take(b);
        if b.runs_outputs() {
            write_to(b.time(), records, &sink)?;
        }
        Ok(())
    });
    let mut batches = 0;
    register_job(&ctx, "pipeline", "other\n", move |_| {
        batches += 1;
        if Some(batches) == fail_on {
            return Err(Error::Pipeline("the other output fails".into()));
        }
        Ok(())
    });
    (ctx, events)
}

#[test]
fn a_sink_commits_every_batch_once_after_its_write() {
    let (ctx, events) = sink_job(None);
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    ctx.stop().unwrap();
    let events = events.lock().unwrap().clone();
    let times: Vec<String> = events
        .iter()
        .map(|e| e.split(' ').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(events.len(), 6, "{events:?}");
    for (i, pair) in events.chunks(2).enumerate() {
        assert!(pair[0].starts_with("write "), "{events:?}");
        assert_eq!(pair[1], format!("commit {}", times[2 * i]), "{events:?}");
    }
    let sums: Vec<&str> = events
        .iter()
        .step_by(2)
        .map(|e| e.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(sums, ["3", "3", "0"]);
}

#[test]
fn a_batch_whose_other_output_fails_is_written_but_not_committed() {
    let (ctx, events) = sink_job(Some(2));
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert!(ctx.advance(1).is_err());
    let _ = ctx.stop();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events[0].starts_with("write ") && events[1].starts_with("commit "));
    assert!(events[2].starts_with("write "), "{events:?}");
}

/// `stream!` takes a user's receiver as a source and a user's sink as an output, with
/// no special case for either: a source chosen at run time is one line.
#[test]
fn stream_reads_a_user_receiver_and_writes_to_a_user_sink() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let journal = Journal::default();
    let events = journal.0.clone();
    let receiver = Numbers(100);
    let counts = stream! { ctx;
        let lines = receiver_stream(receiver);
        lines.map(|l| l.parse::<u32>().unwrap()).write_to(journal);
        lines.count().collect()
    };
    ctx.start().unwrap();
    let seen = std::cell::Cell::new(0u64);
    advance_until(&ctx, || {
        seen.set(seen.get() + counts.take().concat().iter().sum::<u64>());
        seen.get() == 100
    })
    .unwrap();
    ctx.stop().unwrap();
    let events = events.lock().unwrap().clone();
    let written: u32 = events
        .iter()
        .filter(|e| e.starts_with("write"))
        .map(|e| e.rsplit(' ').next().unwrap().parse::<u32>().unwrap())
        .sum();
    assert_eq!(written, (0..100).sum::<u32>(), "every line written once");
    let commits = events.iter().filter(|e| e.starts_with("commit")).count();
    assert_eq!(
        commits * 2,
        events.len(),
        "one commit per write: {events:?}"
    );
}

/// The replayable source through `stream!`.
#[test]
fn stream_reads_a_user_replayable_source() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let out = stream! { ctx;
        replayable_stream(Counter { next: 0 }).map(|n| n * 10).collect()
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    let got = out.take();
    assert_eq!(got.len(), 3);
    assert_eq!(got.concat(), (0..9).map(|n| n * 10).collect::<Vec<u64>>());
}

/// A user receiver with the write-ahead log on: lines it stored before a stop that no
/// batch took are counted once after a restart from the checkpoint.
#[test]
fn a_user_receivers_logged_lines_survive_a_restart() {
    let ckpt = temp("receiver-wal");
    let start = |n: usize| {
        let mut seen = None;
        let ctx = StreamingContext::get_or_create(&ckpt, || {
            let ctx = StreamingContext::builder()
                .batch_interval(Duration::from_millis(100))
                .parallelism(2)
                .manual_clock()
                .checkpoint_dir(&ckpt)
                .write_ahead_log(true)
                .build()?;
            seen = Some(collect(&ctx, source(&ctx, receiver_stream(Numbers(n)))));
            Ok(ctx)
        })
        .unwrap();
        (ctx, seen.unwrap())
    };
    // The first run stores 300 lines and stops before any batch takes them.
    let (ctx, seen) = start(300);
    ctx.start().unwrap();
    let wal = ckpt.join("wal-source0.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while rill_runtime::checkpoint::wal::read(&wal)
        .unwrap()
        .iter()
        .map(|b| b.1.len())
        .sum::<usize>()
        < 300
    {
        assert!(
            Instant::now() < deadline,
            "the receiver never logged its lines"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    ctx.stop().unwrap();
    drop(ctx);
    assert!(seen.lock().unwrap().is_empty());
    // The restarted job (its receiver stores nothing new) counts the logged lines once.
    let (ctx, seen) = start(0);
    ctx.start().unwrap();
    assert_every_line_once(&ctx, &seen, 300);
}

/// A partitioned log in memory, read by offset ranges: partition `p` holds the records
/// `p:0`, `p:1`, ...; offset `n` is after the `n`-th record. Remembers the commits.
#[derive(Clone, Default)]
struct MemLog {
    parts: Arc<Mutex<std::collections::BTreeMap<String, usize>>>,
    commits: Seen<(u64, Vec<(String, usize)>)>,
}

impl MemLog {
    fn append(&self, partition: &str, n: usize) {
        *self
            .parts
            .lock()
            .unwrap()
            .entry(partition.to_string())
            .or_default() += n;
    }
}

impl rill::source::DirectSource for MemLog {
    type Record = String;
    type Offset = usize;
    fn describe(&self) -> String {
        "memlog".into()
    }
    fn partitions(&self) -> rill::Result<Vec<String>> {
        Ok(self.parts.lock().unwrap().keys().cloned().collect())
    }
    fn initial_offset(&self, _: &str) -> rill::Result<usize> {
        Ok(0)
    }
    fn end_offset(
        &self,
        p: &str,
        from: &usize,
        max: Option<u64>,
    ) -> rill::Result<(usize, Option<u64>)> {
        let len = self.parts.lock().unwrap()[p];
        let to = max.map_or(len, |m| len.min(from + m as usize));
        Ok((to, Some((to - from) as u64)))
    }
    fn read(&self, p: &str, from: &usize, to: &usize) -> rill::Result<Vec<String>> {
        Ok((*from..*to).map(|i| format!("{p}:{i}")).collect())
    }
    fn commit(&self, time: rill::Time, ends: &[(String, usize)]) -> rill::Result<()> {
        self.commits
            .lock()
            .unwrap()
            .push((time.millis(), ends.to_vec()));
        Ok(())
    }
}

/// A user `DirectSource` through `stream!`: one batch partition per log partition, a
/// partition added while running read from its start, the rate capping each partition,
/// and the ends committed after every batch.
#[test]
fn stream_reads_a_user_direct_source() {
    use rill::source::direct_stream;
    let log = MemLog::default();
    log.append("a", 3);
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let capped = direct_stream(log.clone()).max_rate_per_partition(2);
    let input = log.clone();
    let (all, parts) = stream! { ctx;
        let everything = direct_stream(input);
        let slow = source(capped);
        (everything.collect(), slow.glom().collect())
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    log.append("b", 1);
    ctx.advance(1).unwrap();
    assert_eq!(all.take(), [vec!["a:0", "a:1", "a:2"], vec!["b:0"]]);
    // Two per partition per batch, partitions in name order.
    assert_eq!(
        parts.take(),
        [
            vec![vec!["a:0".to_string(), "a:1".into()]],
            vec![vec!["a:2".to_string()], vec!["b:0".into()]]
        ]
    );
    let commits = log.commits.lock().unwrap().clone();
    assert_eq!(
        commits.len(),
        4,
        "each source commits each batch: {commits:?}"
    );
    assert_eq!(
        commits[2],
        (2000, vec![("a".to_string(), 3), ("b".to_string(), 1)])
    );
    ctx.stop().unwrap();
}
