//! Redis Streams in and out (feature `redis`): the source reads stream keys as
//! partitions by exact ID ranges, honours `StartAt`, counts malformed entries, picks up
//! streams added while running, moves its consumer group after each batch and, with a
//! checkpoint, reads every entry exactly once across a restart; the sink appends every
//! batch. (The example killed at random points: `tests/broker_crash.rs`.) Skips without a
//! Redis server (`RILL_TEST_REDIS_URL`).

mod support;

use redis::Commands;
use rill::prelude::*;
use rill::sink::RedisStreamSink;
use rill::source::{Message, RedisOptions, StartAt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::servers::redis_url;

/// A stream key of this test process: tests running at once (and earlier runs) do not
/// share keys.
fn key(name: &str) -> String {
    format!("rill-test-{}-{name}", std::process::id())
}

fn conn(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

/// Deletes `keys` (left by an earlier run of the same process id).
fn clear(c: &mut redis::Connection, keys: &[String]) {
    for k in keys {
        let _: () = c.del(k).unwrap();
    }
}

/// Appends entries with the given `value`s (no key) to `stream`, pipelined; returns
/// their IDs.
fn feed(c: &mut redis::Connection, stream: &str, values: &[&[u8]]) -> Vec<String> {
    let mut pipe = redis::pipe();
    for v in values {
        pipe.cmd("XADD").arg(stream).arg("*").arg("value").arg(*v);
    }
    pipe.query(c).unwrap()
}

/// The entries of `stream` as `(id, field -> value)`.
fn read_back(c: &mut redis::Connection, stream: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query(c)
        .unwrap();
    entries
        .into_iter()
        .map(|(id, fields)| {
            let map = fields
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv[1].clone()))
                .collect();
            (id, map)
        })
        .collect()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-redis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn manual(parallelism: usize) -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(parallelism)
        .manual_clock()
        .build()
        .unwrap()
}

fn values(batches: Vec<Vec<Message<String>>>) -> Vec<Vec<String>> {
    batches
        .into_iter()
        .map(|b| b.into_iter().map(|m| m.value).collect())
        .collect()
}

#[test]
fn word_count_over_four_streams_writes_exact_counts_back() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let inputs: Vec<String> = (0..4).map(|i| key(&format!("wc-{i}"))).collect();
    let out = key("wc-out");
    clear(&mut c, &inputs);
    clear(&mut c, std::slice::from_ref(&out));

    let ctx = manual(2);
    let sink = RedisStreamSink::new(&url, &out).unwrap();
    let options = RedisOptions::default()
        .group("wc")
        .start_at(StartAt::Earliest);
    let (src_url, keys) = (url.clone(), inputs.clone());
    let partitions = stream! { ctx;
        let lines = redis_string_stream(src_url, keys, options);
        lines
            .flat_map(|m| m.value.split(' ').map(str::to_string).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .write_to(sink);
        lines.glom().map(|p| p.len()).collect()
    };
    ctx.start().unwrap();

    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for batch in 0..3 {
        for (i, stream) in inputs.iter().enumerate() {
            let lines: Vec<String> = (0..50 + 10 * i)
                .map(|n| format!("w{} w{} s{i}", n % 7, (n + batch) % 5))
                .collect();
            for l in &lines {
                for w in l.split(' ') {
                    *expected.entry(w.to_string()).or_default() += 1;
                }
            }
            let refs: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
            feed(&mut c, stream, &refs);
        }
        ctx.advance(1).unwrap();
    }
    // One batch partition per stream, in key order: 50, 60, 70, 80 lines.
    let sizes = partitions.take();
    assert_eq!(sizes.len(), 3);
    for b in &sizes {
        assert_eq!(b, &[50, 60, 70, 80]);
    }
    ctx.stop().unwrap();

    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    let mut batch_times = std::collections::BTreeSet::new();
    for (_, fields) in read_back(&mut c, &out) {
        *got.entry(fields["key"].clone()).or_default() += fields["value"].parse::<u64>().unwrap();
        batch_times.insert(fields["batch_time"].parse::<u64>().unwrap());
    }
    assert_eq!(got, expected);
    assert_eq!(
        batch_times.len(),
        3,
        "one append per batch: {batch_times:?}"
    );
    clear(&mut c, &inputs);
    clear(&mut c, &[out]);
}

/// A context reading `stream` from `start_at` with group `group`: appends `new` once it
/// started, runs one batch and returns what it read.
fn read_from(url: &str, stream: &str, group: &str, start_at: StartAt) -> Vec<String> {
    let ctx = manual(1);
    let options = RedisOptions::default().group(group).start_at(start_at);
    let (u, keys) = (url.to_string(), vec![stream.to_string()]);
    let got = stream! { ctx;
        redis_string_stream(u, keys, options).collect()
    };
    ctx.start().unwrap();
    feed(&mut conn(url), stream, &[b"new"]);
    ctx.advance(1).unwrap();
    ctx.stop().unwrap();
    values(got.take()).concat()
}

#[test]
fn start_at_earliest_latest_and_committed_are_honoured() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let s = key("start-at");
    clear(&mut c, std::slice::from_ref(&s));
    let ids = feed(&mut c, &s, &[b"one", b"two", b"three"]);
    // A group that consumed up to "two" before this job existed.
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&s)
        .arg("before")
        .arg(&ids[1])
        .query(&mut c)
        .unwrap();

    assert_eq!(
        read_from(&url, &s, "e", StartAt::Earliest),
        ["one", "two", "three", "new"]
    );
    let _: () = c.del(&s).unwrap();
    let ids = feed(&mut c, &s, &[b"one", b"two", b"three"]);
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&s)
        .arg("before")
        .arg(&ids[1])
        .query(&mut c)
        .unwrap();
    assert_eq!(read_from(&url, &s, "l", StartAt::Latest), ["new"]);
    assert_eq!(
        read_from(&url, &s, "before", StartAt::Committed),
        ["three", "new", "new"]
    );
    // A new group under Committed starts at the first entry.
    assert_eq!(
        read_from(&url, &s, "fresh", StartAt::Committed),
        ["one", "two", "three", "new", "new", "new"]
    );
    // The committed group now resumes after what it read.
    assert_eq!(
        read_from(&url, &s, "before", StartAt::Committed),
        ["new", "new"]
    );
    clear(&mut c, &[s]);
}

#[test]
fn a_value_that_is_not_utf8_or_missing_is_counted_and_skipped() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let s = key("malformed");
    clear(&mut c, std::slice::from_ref(&s));
    feed(&mut c, &s, &[b"ok", b"\xff\xfe", b"fine"]);
    let _: String = c.xadd(&s, "*", &[("other", "no value field")]).unwrap();
    let _: String = c
        .xadd(&s, "*", &[("key", "k1"), ("value", "keyed")])
        .unwrap();

    let ctx = manual(1);
    let (u, keys) = (url.clone(), vec![s.clone()]);
    let options = RedisOptions::default().start_at(StartAt::Earliest);
    let got = stream! { ctx;
        redis_string_stream(u, keys, options).map(|m| (m.key, m.value)).collect()
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(
        got.take().concat(),
        [
            (None, "ok".to_string()),
            (None, "fine".to_string()),
            (Some("k1".to_string()), "keyed".to_string())
        ]
    );
    assert_eq!(ctx.malformed_records(), 2);
    ctx.stop().unwrap();

    // As bytes, only the entry without a value is malformed.
    let ctx = manual(1);
    let (u, keys) = (url.clone(), vec![s.clone()]);
    let options = RedisOptions::default().start_at(StartAt::Earliest);
    let got = stream! { ctx;
        redis_stream(u, keys, options).map(|m| m.value).collect()
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(got.take().concat().len(), 4);
    assert_eq!(ctx.malformed_records(), 1);
    ctx.stop().unwrap();
    clear(&mut c, &[s]);
}

#[test]
fn a_stream_added_while_running_is_picked_up() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let (a, b) = (key("pattern:a"), key("pattern:b"));
    clear(&mut c, &[a.clone(), b.clone()]);
    feed(&mut c, &a, &[b"a-old"]);

    let ctx = manual(2);
    // Latest: the entries of streams there at start are skipped, a stream created
    // later is read from its first entry.
    let options = RedisOptions::default()
        .start_at(StartAt::Latest)
        .pattern(key("pattern:*"));
    let u = url.clone();
    let got = stream! { ctx;
        redis_string_stream(u, Vec::<String>::new(), options).map(|m| (m.partition, m.value)).collect()
    };
    ctx.start().unwrap();
    feed(&mut c, &a, &[b"a1"]);
    ctx.advance(1).unwrap();
    feed(&mut c, &b, &[b"b1", b"b2"]);
    feed(&mut c, &a, &[b"a2"]);
    ctx.advance(1).unwrap();
    let batches = got.take();
    assert_eq!(batches[0], [(a.clone(), "a1".to_string())]);
    let mut second = batches[1].clone();
    second.sort();
    assert_eq!(
        second,
        [
            (a.clone(), "a2".to_string()),
            (b.clone(), "b1".to_string()),
            (b.clone(), "b2".to_string())
        ]
    );
    ctx.stop().unwrap();
    clear(&mut c, &[a, b]);
}

/// The fields of `group` in `XINFO GROUPS stream`.
fn group_info(
    c: &mut redis::Connection,
    stream: &str,
    group: &str,
) -> BTreeMap<String, redis::Value> {
    let groups: Vec<Vec<redis::Value>> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query(c)
        .unwrap();
    for g in groups {
        let map: BTreeMap<String, redis::Value> = g
            .chunks(2)
            .map(|kv| {
                (
                    redis::from_redis_value::<String>(kv[0].clone()).unwrap(),
                    kv[1].clone(),
                )
            })
            .collect();
        if map
            .get("name")
            .map(|v| redis::from_redis_value::<String>(v.clone()).unwrap())
            .as_deref()
            == Some(group)
        {
            return map;
        }
    }
    panic!("no group {group} in {stream}");
}

#[test]
fn the_group_position_shows_in_xinfo_groups_after_a_batch() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let s = key("xinfo");
    clear(&mut c, std::slice::from_ref(&s));

    let ctx = manual(1);
    let (u, keys) = (url.clone(), vec![s.clone()]);
    let options = RedisOptions::default().group("watch");
    let got = stream! { ctx;
        redis_string_stream(u, keys, options).count().collect()
    };
    ctx.start().unwrap();
    // The group is created at start (and the stream with it).
    let info = group_info(&mut c, &s, "watch");
    assert_eq!(
        redis::from_redis_value::<String>(info["last-delivered-id"].clone()).unwrap(),
        "0-0"
    );
    let ids = feed(&mut c, &s, &[b"x", b"y", b"z"]);
    ctx.advance(1).unwrap();
    let info = group_info(&mut c, &s, "watch");
    assert_eq!(
        redis::from_redis_value::<String>(info["last-delivered-id"].clone()).unwrap(),
        ids[2]
    );
    assert_eq!(
        redis::from_redis_value::<i64>(info["lag"].clone()).unwrap(),
        0
    );
    assert_eq!(
        redis::from_redis_value::<i64>(info["pending"].clone()).unwrap(),
        0
    );
    feed(&mut c, &s, &[b"w"]);
    let info = group_info(&mut c, &s, "watch");
    assert_eq!(
        redis::from_redis_value::<i64>(info["lag"].clone()).unwrap(),
        1
    );
    assert_eq!(got.take(), [vec![3u64]]);
    ctx.stop().unwrap();
    clear(&mut c, &[s]);
}

type Totals = Collected<(String, u64)>;

/// Running totals per value of the entries of `streams`, checkpointed to `ckpt`.
fn totals_job(
    url: &str,
    streams: &[String],
    ckpt: &Path,
) -> rill::Result<(StreamingContext, Totals)> {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .checkpoint_dir(ckpt)
        .checkpoint_interval(Duration::from_secs(2))
        .build()?;
    let (u, keys) = (url.to_string(), streams.to_vec());
    let options = RedisOptions::default().group("recovery");
    let totals = stream! { ctx;
        redis_string_stream(u, keys, options)
            .map(|m| (m.value, 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
            .collect()
    };
    Ok((ctx, totals))
}

/// Appends batch `b`'s entries: values `v0`..`v4`, more of the lower ones.
fn feed_batch(
    c: &mut redis::Connection,
    streams: &[String],
    b: usize,
    expected: &mut BTreeMap<String, u64>,
) {
    for (i, s) in streams.iter().enumerate() {
        let vals: Vec<String> = (0..10 + b + i).map(|n| format!("v{}", n % 5)).collect();
        for v in &vals {
            *expected.entry(v.clone()).or_default() += 1;
        }
        let refs: Vec<&[u8]> = vals.iter().map(|v| v.as_bytes()).collect();
        feed(c, s, &refs);
    }
}

#[test]
fn a_recovered_job_reads_every_entry_exactly_once() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let streams = vec![key("recovery-a"), key("recovery-b")];
    clear(&mut c, &streams);
    let ckpt = temp("recovery");
    let mut expected = BTreeMap::new();

    let (ctx, totals) = totals_job(&url, &streams, &ckpt).unwrap();
    ctx.start().unwrap();
    for b in 0..5 {
        feed_batch(&mut c, &streams, b, &mut expected);
        ctx.advance(1).unwrap();
    }
    // Stopped after batch 5: the snapshot is at 4 s, batch 5 only in the batch log (and
    // committed to the group, which a checkpointed job does not resume from).
    drop(ctx);
    drop(totals);
    // Written while the job was down: the recomputed batch 5 must not take them.
    feed_batch(&mut c, &streams, 5, &mut expected);

    let mut handle = None;
    let ctx = StreamingContext::get_or_create(&ckpt, || {
        let (ctx, totals) = totals_job(&url, &streams, &ckpt)?;
        handle = Some(totals);
        Ok(ctx)
    })
    .unwrap();
    let totals = handle.unwrap();
    ctx.start().unwrap();
    ctx.advance(1).unwrap(); // batch 5 again, for its state only
    assert!(
        totals.take().is_empty(),
        "a completed batch's outputs do not run again"
    );
    ctx.advance(1).unwrap(); // batch 6: what was written while down
    feed_batch(&mut c, &streams, 6, &mut expected);
    ctx.advance(1).unwrap();
    let last = totals.take().pop().unwrap();
    let got: BTreeMap<String, u64> = last.into_iter().collect();
    assert_eq!(got, expected);
    ctx.stop().unwrap();
    clear(&mut c, &streams);
    let _ = std::fs::remove_dir_all(&ckpt);
}

#[test]
fn a_dropped_connection_is_retried() {
    let Some(url) = redis_url() else { return };
    // A database of its own, so that only this test's connections are dropped.
    let url = format!("{}/5", url.trim_end_matches('/'));
    let mut c = conn(&url);
    let s = key("dropped");
    let out = key("dropped-out");
    clear(&mut c, &[s.clone(), out.clone()]);
    let ctx = manual(2);
    let (u, keys) = (url.clone(), vec![s.clone()]);
    let sink = RedisStreamSink::new(&url, &out).unwrap();
    let options = RedisOptions::default().start_at(StartAt::Earliest);
    let got = stream! { ctx;
        let m = redis_string_stream(u, keys, options);
        m.map(|m| (m.value, 1u64)).write_to(sink);
        m.count().collect()
    };
    ctx.start().unwrap();
    feed(&mut c, &s, &[b"a", b"b"]);
    ctx.advance(1).unwrap();
    // Every other connection to database 5 (the source's and the sink's) is closed.
    let me: u64 = redis::cmd("CLIENT").arg("ID").query(&mut c).unwrap();
    let clients: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    let mut killed = 0;
    for line in clients.lines().filter(|l| l.contains(" db=5 ")) {
        let id: u64 = line
            .split(' ')
            .find_map(|f| f.strip_prefix("id="))
            .unwrap()
            .parse()
            .unwrap();
        if id != me {
            let _: redis::Value = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query(&mut c)
                .unwrap();
            killed += 1;
        }
    }
    assert!(killed > 0, "the job's connections were found: {clients}");
    feed(&mut c, &s, &[b"c"]);
    ctx.advance(1).unwrap();
    assert_eq!(got.take(), [vec![2u64], vec![1]]);
    assert_eq!(read_back(&mut c, &out).len(), 3);
    ctx.stop().unwrap();
    clear(&mut c, &[s, out]);
}
