//! Checkpoints and recovery in one process: a job stopped between checkpoints resumes
//! from the newest snapshot, recomputes the logged batches, and ends where an
//! uninterrupted run ends.

use rill::prelude::*;
use std::path::{Path, PathBuf};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-recovery-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

type Totals = Collected<(String, u64)>;

/// The job: running totals per word of the lines of new files.
fn job(ckpt: &Path, input: &Path) -> rill::Result<(StreamingContext, Totals)> {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .checkpoint_dir(ckpt)
        .checkpoint_interval(Duration::from_secs(2))
        .build()?;
    let dir = input.to_path_buf();
    let totals = stream! { ctx;
        text_file_stream(dir)
            .flat_map(|l| l.split(' '))
            .map(|w| (w.to_string(), 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
            .collect()
    };
    Ok((ctx, totals))
}

/// The job resumed from its checkpoint with `get_or_create`.
fn resume(ckpt: &Path, input: &Path) -> (StreamingContext, Totals) {
    let mut handle = None;
    let ctx = StreamingContext::get_or_create(ckpt, || {
        let (ctx, totals) = job(ckpt, input)?;
        handle = Some(totals);
        Ok(ctx)
    })
    .unwrap();
    (ctx, handle.unwrap())
}

fn feed(input: &Path, batch: usize) {
    std::fs::write(
        input.join(format!("f{batch:03}.txt")),
        format!("a b{} c\na\n", batch % 3),
    )
    .unwrap();
}

fn sorted(mut v: Vec<(String, u64)>) -> Vec<(String, u64)> {
    v.sort();
    v
}

/// Feeds a file before each of `batches` batches; returns every batch's totals.
fn run(
    ctx: &StreamingContext,
    totals: &Totals,
    input: &Path,
    from: usize,
    to: usize,
) -> Vec<Vec<(String, u64)>> {
    for b in from..to {
        feed(input, b);
        ctx.advance(1).unwrap();
    }
    totals.take().into_iter().map(sorted).collect()
}

#[test]
fn a_job_stopped_between_checkpoints_resumes_exactly() {
    // Uninterrupted.
    let (ckpt, input) = (temp("plain-ckpt"), temp("plain-in"));
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    let expected = run(&ctx, &totals, &input, 0, 8);
    drop(ctx);

    // Interrupted after batch 5 (checkpoints at 2 s and 4 s; batch 5 only in the log).
    let (ckpt, input) = (temp("crash-ckpt"), temp("crash-in"));
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    let mut got = run(&ctx, &totals, &input, 0, 5);
    drop(ctx);
    let (ctx, totals) = resume(&ckpt, &input);
    ctx.start().unwrap();
    // Batch 5 is recomputed from the log (its file is not fed again) to rebuild the
    // state; its outputs completed before the stop, so `collect` does not see it again.
    ctx.advance(1).unwrap();
    assert!(
        totals.take().is_empty(),
        "a completed batch's outputs do not run again"
    );
    // Batches 6.. go on from the recomputed state, as an uninterrupted run does.
    got.extend(run(&ctx, &totals, &input, 5, 8));
    assert_eq!(got, expected);
}

/// Issue 9's reproduction: the clock cuts batches ahead of a slow runner and a restarted
/// job catches up on missed batch times; every snapshot must hold the sources' positions
/// at its own batch, or recovery skips queued entries.
#[test]
fn positions_in_a_snapshot_are_those_of_its_batch() {
    let ckpt = temp("queue-ahead");
    let counted = std::sync::Arc::new(std::sync::Mutex::new(0u64));
    let start = || {
        let seen = counted.clone();
        let ctx = StreamingContext::get_or_create(&ckpt, || {
            let ctx = StreamingContext::builder()
                .batch_interval(Duration::from_millis(100))
                .parallelism(2)
                .checkpoint_dir(&ckpt)
                .checkpoint_interval(Duration::from_secs(1))
                .build()?;
            stream! { ctx;
                queue_stream((1..=60u64).map(|i| vec![i]).collect::<Vec<_>>())
                    .map(|_| ("items", 1u64))
                    .update_state_by_key(|new: Vec<u64>, n: Option<u64>| Some(n.unwrap_or(0) + new.len() as u64))
                    .for_each_batch(move |_, totals: Vec<(String, u64)>| {
                        if let Some((_, n)) = totals.first() {
                            *seen.lock().unwrap() = *n;
                        }
                    });
            };
            Ok(ctx)
        })
        .unwrap();
        ctx.start().unwrap();
        ctx
    };
    let ctx = start();
    std::thread::sleep(Duration::from_millis(1500));
    ctx.stop().unwrap();
    drop(ctx);
    std::thread::sleep(Duration::from_millis(2500));
    let ctx = start();
    std::thread::sleep(Duration::from_millis(300));
    ctx.stop().unwrap();
    drop(ctx);
    let ctx = start();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while ctx.last_batch_time().millis() == 0 || *counted.lock().unwrap() < 60 {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never caught up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    ctx.stop().unwrap();
    assert_eq!(
        *counted.lock().unwrap(),
        60,
        "every queued item counted once"
    );
}

#[test]
fn a_plain_start_begins_a_new_run_in_the_directory() {
    let (ckpt, input) = (temp("fresh-ckpt"), temp("fresh-in"));
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    run(&ctx, &totals, &input, 0, 3);
    drop(ctx);
    // Not get_or_create: a new run, from empty state, that ignores the old files.
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(totals.take(), vec![vec![]]);
    feed(&input, 9);
    ctx.advance(1).unwrap();
    assert_eq!(
        sorted(totals.take().remove(0)),
        vec![("a".into(), 2), ("b0".into(), 1), ("c".into(), 1)]
    );
}

#[test]
fn a_checkpoint_of_another_pipeline_is_refused() {
    let (ckpt, input) = (temp("other-ckpt"), temp("other-in"));
    let (ctx, _) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    drop(ctx);
    let ctx = StreamingContext::get_or_create(&ckpt, || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .manual_clock()
            .build()?;
        let dir = input.clone();
        stream! { ctx;
            text_file_stream(dir).map(|l| (l, 1u32)).running_reduce_by_key(|a, b| a + b).print();
        };
        Ok(ctx)
    })
    .unwrap();
    let e = ctx.start().unwrap_err().to_string();
    assert!(e.contains("different pipeline"), "{e}");
}

#[test]
fn a_checkpoint_resumes_the_same_pipeline_written_differently() {
    let (ckpt, input) = (temp("rewritten-ckpt"), temp("rewritten-in"));
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    run(&ctx, &totals, &input, 0, 2);
    drop(ctx);
    // The same operator graph with named streams and other closure bodies: the plan
    // fingerprint is the graph's, so the checkpoint is resumed.
    let mut handle = None;
    let ctx = StreamingContext::get_or_create(&ckpt, || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .checkpoint_dir(&ckpt)
            .checkpoint_interval(Duration::from_secs(2))
            .build()?;
        let dir = input.clone();
        handle = Some(stream! { ctx;
            let words = text_file_stream(dir).flat_map(|line| line.split(' '));
            let running = words
                .map(|word| (String::from(word), 1u64))
                .update_state_by_key(|ones: Vec<u64>, before: Option<u64>| Some(ones.into_iter().sum::<u64>() + before.unwrap_or(0)));
            running.collect()
        });
        Ok(ctx)
    })
    .unwrap();
    let totals = handle.unwrap();
    ctx.start().unwrap();
    feed(&input, 2);
    ctx.advance(1).unwrap();
    assert_eq!(
        totals.take().into_iter().map(sorted).collect::<Vec<_>>(),
        vec![vec![
            ("a".into(), 6),
            ("b0".into(), 1),
            ("b1".into(), 1),
            ("b2".into(), 1),
            ("c".into(), 3)
        ]],
        "the totals go on from the checkpoint"
    );
}

#[test]
fn damaged_checkpoints_fall_back_or_fail_clearly() {
    let (expected, ckpt, input) = uninterrupted_and_stopped("damaged", 6, 5);
    let snaps = snapshots(&ckpt);
    assert_eq!(snaps.len(), 2, "the last two snapshots are kept");
    // Truncate the newest: recovery uses the older one and recomputes more batches.
    let data = std::fs::read(&snaps[1]).unwrap();
    std::fs::write(&snaps[1], &data[..data.len() - 3]).unwrap();
    let (ctx, totals) = resume(&ckpt, &input);
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    assert!(totals.take().is_empty(), "batches 3-5 completed before");
    // The state rebuilt from the older snapshot is the uninterrupted run's.
    assert_eq!(run(&ctx, &totals, &input, 5, 6), expected[5..6].to_vec());
    drop(ctx);
    // Corrupt every snapshot: a clear error.
    for p in snapshots(&ckpt) {
        std::fs::write(&p, b"RILLCKP1 garbage").unwrap();
    }
    let (ctx, _) = resume(&ckpt, &input);
    let e = ctx.start().unwrap_err().to_string();
    assert!(e.contains("no valid checkpoint"), "{e}");
}

/// With `catch_up_in_one_batch`, the batch times a job missed while down run as one
/// batch at the newest of them; by default (as in Spark) each runs.
#[test]
fn the_missed_batch_times_can_run_as_one_catch_up_batch() {
    let ckpt = temp("catch-up");
    let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let start = || {
        let seen = times.clone();
        let ctx = StreamingContext::get_or_create(&ckpt, || {
            let ctx = StreamingContext::builder()
                .batch_interval(Duration::from_millis(100))
                .parallelism(2)
                .checkpoint_dir(&ckpt)
                .catch_up_in_one_batch(true)
                .build()?;
            stream! { ctx;
                queue_stream((1..=1000u64).map(|i| vec![i]).collect::<Vec<_>>())
                    .map(|i| ("n", i))
                    .update_state_by_key(|new: Vec<u64>, n: Option<u64>| Some(n.unwrap_or(0) + new.len() as u64))
                    .for_each_batch(move |t, _| seen.lock().unwrap().push(t.millis()));
            };
            Ok(ctx)
        })
        .unwrap();
        ctx.start().unwrap();
        ctx
    };
    let wait_for = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while times.lock().unwrap().len() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "{n} batches never ran"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let ctx = start();
    wait_for(5);
    ctx.stop().unwrap();
    drop(ctx);
    let before = times.lock().unwrap().len();
    // Down for 1.5 s: some 15 batch times are missed.
    std::thread::sleep(Duration::from_millis(1500));
    let ctx = start();
    wait_for(before + 5);
    ctx.stop().unwrap();
    let times = times.lock().unwrap().clone();
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // One jump over the missed times, every other batch one interval after the last.
    assert_eq!(
        gaps.iter().filter(|g| **g != 100).count(),
        1,
        "batch times {times:?}"
    );
    assert!(gaps.iter().any(|g| *g >= 1000), "batch times {times:?}");
}

#[test]
fn catching_up_in_one_batch_is_refused_for_windowed_pipelines() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .manual_clock()
        .catch_up_in_one_batch(true)
        .build()
        .unwrap();
    stream! { ctx;
        queue_stream(vec![vec![("a", 1u32)]])
            .reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(2), Duration::from_secs(1))
            .print();
    };
    let e = ctx.start().unwrap_err().to_string();
    assert!(e.contains("reduce_by_key_and_window"), "{e}");
}

/// The snapshot files of `ckpt`, oldest first.
fn snapshots(ckpt: &Path) -> Vec<PathBuf> {
    let mut snaps: Vec<PathBuf> = std::fs::read_dir(ckpt)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("checkpoint-")
        })
        .collect();
    snaps.sort();
    snaps
}

/// The totals of an uninterrupted run of `all` batches, and the checkpoint and input
/// directories of a run stopped after `stopped` batches.
fn uninterrupted_and_stopped(
    name: &str,
    all: usize,
    stopped: usize,
) -> (Vec<Vec<(String, u64)>>, PathBuf, PathBuf) {
    let (ckpt, input) = (
        temp(&format!("{name}-plain-ckpt")),
        temp(&format!("{name}-plain-in")),
    );
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    let expected = run(&ctx, &totals, &input, 0, all);
    drop(ctx);
    let (ckpt, input) = (temp(&format!("{name}-ckpt")), temp(&format!("{name}-in")));
    let (ctx, totals) = job(&ckpt, &input).unwrap();
    ctx.start().unwrap();
    run(&ctx, &totals, &input, 0, stopped);
    drop(ctx);
    (expected, ckpt, input)
}

/// Rewrites the snapshot at `path` with a valid checksum but its first state one that
/// does not decode (a string length of 2^60).
fn poison_state(path: &Path) {
    poison_state_at(path, 0);
}

/// The same for its state number `i`.
fn poison_state_at(path: &Path, i: usize) {
    use rill_runtime::checkpoint::store::{decode_snapshot, to_bytes};
    let mut snap = decode_snapshot(&std::fs::read(path).unwrap()).unwrap();
    assert!(snap.states.len() > i, "the snapshot holds state {i}");
    let mut bad = vec![1u8, 0xFD];
    bad.extend((1u64 << 60).to_le_bytes());
    snap.states[i].1 = bad;
    let data = rill_runtime::checkpoint::encode_frame(b"RILLCKP1", &to_bytes(&snap).unwrap());
    std::fs::write(path, data).unwrap();
}

#[test]
fn state_that_does_not_decode_falls_back_and_is_named() {
    let (expected, ckpt, input) = uninterrupted_and_stopped("poison", 7, 6);
    let snaps = snapshots(&ckpt);
    // The newest snapshot's state does not decode: the older one is used, and the batches
    // after it are recomputed, so the job goes on as an uninterrupted run does.
    poison_state(&snaps[1]);
    let (ctx, totals) = resume(&ckpt, &input);
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    assert!(totals.take().is_empty(), "batches 5 and 6 completed before");
    assert_eq!(run(&ctx, &totals, &input, 6, 7), expected[6..7].to_vec());
    drop(ctx);
    // Neither decodes: an error naming the file and the operator, no abort.
    for p in snapshots(&ckpt) {
        poison_state(&p);
    }
    let (ctx, _) = resume(&ckpt, &input);
    let e = ctx.start().unwrap_err().to_string();
    assert!(
        e.contains("checkpoint-") && e.contains("update_state_by_key"),
        "{e}"
    );
}

/// A job killed after its receiver logged lines but before its first snapshot was
/// durable leaves only a write-ahead log: the restarted job finds no checkpoint, and still
/// counts every logged line, once, in its first batch.
#[test]
fn lines_logged_before_the_first_snapshot_count_after_a_restart() {
    let ckpt = temp("wal-first-snapshot");
    let (mut wal, _) =
        rill_runtime::checkpoint::wal::Wal::open(&ckpt.join("wal-source0.log")).unwrap();
    wal.append(&["a b".to_string()]).unwrap();
    wal.append(&["a".to_string(), "c".to_string()]).unwrap();
    drop(wal);
    let mut handle = None;
    let ctx = StreamingContext::get_or_create(&ckpt, || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .manual_clock()
            .checkpoint_dir(&ckpt)
            .write_ahead_log(true)
            .build()?;
        handle = Some(stream! { ctx;
            socket_listen_stream("127.0.0.1:0")
                .flat_map(|l| l.split(' '))
                .map(|w| (w.to_string(), 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                .collect()
        });
        Ok(ctx)
    })
    .unwrap();
    let totals: Totals = handle.unwrap();
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(
        sorted(totals.take().remove(0)),
        vec![("a".into(), 2), ("b".into(), 1), ("c".into(), 1)]
    );
    drop(ctx);
    let _ = std::fs::remove_dir_all(&ckpt);
}

/// With two stateful operators, the newest snapshot's second state does not decode after
/// the first was restored from it; the only older snapshot (the initial one) holds no
/// state, so falling back would leave the first operator with the newer state: refused
/// with an error naming it.
#[test]
fn no_fallback_that_would_mix_the_state_of_two_snapshots() {
    let ckpt = temp("mixed");
    let build = || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .manual_clock()
            .checkpoint_dir(&ckpt)
            .checkpoint_interval(Duration::from_secs(2))
            .build()?;
        stream! { ctx;
            let n = queue_stream((1..=10u64).map(|i| vec![("k", i)]).collect::<Vec<_>>());
            n.update_state_by_key(|v: Vec<u64>, s: Option<u64>| Some(s.unwrap_or(0) + v.iter().sum::<u64>())).print();
            n.update_state_by_key(|v: Vec<u64>, s: Option<u64>| Some(s.unwrap_or(1) * v.len() as u64)).print();
        };
        Ok(ctx)
    };
    let ctx = build().unwrap();
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    drop(ctx);
    let snaps = snapshots(&ckpt);
    assert_eq!(snaps.len(), 2, "the initial snapshot and the one at 2 s");
    poison_state_at(&snaps[1], 1);
    let ctx = StreamingContext::get_or_create(&ckpt, build).unwrap();
    let e = ctx.start().unwrap_err().to_string();
    assert!(e.contains("already restored"), "{e}");
}
