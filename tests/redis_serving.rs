//! Redis for serving (feature `redis`): `RedisHashSink` writes keyed values into hashes
//! and `RedisSortedSetSink` ranked lists into sorted sets, read back with `HGETALL` and
//! `ZREVRANGE` and compared exactly; lists are replaced whole (a reader never sees one
//! half old, half new), a batch written again leaves the same data, and nothing is
//! written before the batch commits. Skips without a Redis server (`RILL_TEST_REDIS_URL`).

mod support;

use redis::Commands;
use rill::prelude::*;
use rill::sink::{RedisHashSink, RedisSortedSetSink, Sink};
use std::collections::BTreeMap;
use support::servers::redis_url;

/// A key (or key prefix) of this test process: tests running at once (and earlier runs)
/// do not share keys.
fn key(name: &str) -> String {
    format!("rill-test-{}-{name}", std::process::id())
}

fn conn(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

/// Deletes every key starting with `prefix`.
fn clear(c: &mut redis::Connection, prefix: &str) {
    let keys: Vec<String> = c.keys(format!("{prefix}*")).unwrap();
    for k in keys {
        let _: () = c.del(k).unwrap();
    }
}

fn hgetall(c: &mut redis::Connection, key: &str) -> BTreeMap<String, String> {
    c.hgetall(key).unwrap()
}

/// `ZREVRANGE key 0 -1 WITHSCORES`: the list, best first.
fn zrevrange(c: &mut redis::Connection, key: &str) -> Vec<(String, f64)> {
    c.zrevrange_withscores(key, 0, -1).unwrap()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn list(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(m, s)| (m.to_string(), *s)).collect()
}

fn manual(parallelism: usize) -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(parallelism)
        .manual_clock()
        .build()
        .unwrap()
}

#[test]
fn word_totals_go_to_one_hash_with_one_field_per_word() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let h = key("totals");
    clear(&mut c, &h);
    let ctx = manual(2);
    let sink = RedisHashSink::new(&url, &h).unwrap();
    stream! { ctx;
        queue_stream(vec![vec!["to be or", "not to be"], vec!["be quick"], vec![]])
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
            .write_to(sink);
    }
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(
        hgetall(&mut c, &h),
        map(&[("be", "2"), ("not", "1"), ("or", "1"), ("to", "2")])
    );
    ctx.advance(2).unwrap();
    assert_eq!(
        hgetall(&mut c, &h),
        map(&[
            ("be", "3"),
            ("not", "1"),
            ("or", "1"),
            ("quick", "1"),
            ("to", "2")
        ])
    );
    ctx.stop().unwrap();
    clear(&mut c, &h);
}

#[test]
fn triples_write_a_hash_per_key_updated_or_replaced() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let (upd, rep) = (key("visits-upd:"), key("visits-rep:"));
    clear(&mut c, &upd);
    clear(&mut c, &rep);
    let ctx = manual(2);
    let batches = vec![
        vec![("ann", "/", 1u32), ("ann", "/cart", 2), ("bob", "/", 5)],
        vec![("ann", "/", 3), ("cid", "/help", 1)],
    ];
    let (updated, replaced) = (
        RedisHashSink::new(&url, &upd).unwrap(),
        RedisHashSink::new(&url, &rep).unwrap().replace(true),
    );
    stream! { ctx;
        let visits = queue_stream(batches).repartition(2);
        visits.write_to(updated);
        visits.write_to(replaced);
    }
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    for prefix in [&upd, &rep] {
        assert_eq!(
            hgetall(&mut c, &format!("{prefix}ann")),
            map(&[("/", "1"), ("/cart", "2")])
        );
        assert_eq!(hgetall(&mut c, &format!("{prefix}bob")), map(&[("/", "5")]));
    }
    ctx.advance(1).unwrap();
    // Updated: ann's other field stays. Replaced: ann holds exactly the batch's field.
    assert_eq!(
        hgetall(&mut c, &format!("{upd}ann")),
        map(&[("/", "3"), ("/cart", "2")])
    );
    assert_eq!(hgetall(&mut c, &format!("{rep}ann")), map(&[("/", "3")]));
    for prefix in [&upd, &rep] {
        // A hash the batch does not write is left as it is.
        assert_eq!(hgetall(&mut c, &format!("{prefix}bob")), map(&[("/", "5")]));
        assert_eq!(
            hgetall(&mut c, &format!("{prefix}cid")),
            map(&[("/help", "1")])
        );
    }
    ctx.stop().unwrap();
    clear(&mut c, &upd);
    clear(&mut c, &rep);
}

#[test]
fn one_replaced_hash_holds_exactly_the_last_batch_across_partitions() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let h = key("latest");
    clear(&mut c, &h);
    let ctx = manual(3);
    let batches: Vec<Vec<(String, u64)>> = vec![
        (0..100).map(|i| (format!("f{i}"), i)).collect(),
        (50..60).map(|i| (format!("f{i}"), i * 10)).collect(),
    ];
    let sink = RedisHashSink::new(&url, &h).unwrap().replace(true);
    stream! { ctx;
        queue_stream(batches).repartition(3).write_to(sink);
    }
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(hgetall(&mut c, &h).len(), 100);
    ctx.advance(1).unwrap();
    let expected: BTreeMap<String, String> = (50..60)
        .map(|i| (format!("f{i}"), (i * 10).to_string()))
        .collect();
    assert_eq!(hgetall(&mut c, &h), expected);
    ctx.stop().unwrap();
    clear(&mut c, &h);
}

#[test]
fn ranked_lists_are_replaced_whole_and_cut_to_the_top_k() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let (p, t) = (key("top:"), key("members:"));
    clear(&mut c, &p);
    clear(&mut c, &t);
    let ctx = manual(2);
    type Lists = Vec<(&'static str, Vec<(&'static str, u64)>)>;
    let lists: Vec<Lists> = vec![
        vec![
            ("a", vec![("x", 3), ("y", 5), ("z", 1), ("w", 3)]),
            ("b", vec![("x", 1)]),
        ],
        vec![("a", vec![("q", 2), ("r", 1)]), ("b", vec![])],
    ];
    let members: Vec<Vec<(u32, String, f64)>> = vec![
        vec![
            (1, "m1".into(), 0.5),
            (2, "m2".into(), 2.0),
            (1, "m3".into(), 1.5),
        ],
        vec![(1, "m4".into(), -1.0)],
    ];
    let (top3, all) = (
        RedisSortedSetSink::new(&url, &p).unwrap().top(3),
        RedisSortedSetSink::new(&url, &t).unwrap(),
    );
    stream! { ctx;
        queue_stream(lists).write_to(top3);
        queue_stream(members).write_to(all);
    }
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    // Ties rank as ZREVRANGE does: the member that sorts last first (x before w).
    assert_eq!(
        zrevrange(&mut c, &format!("{p}a")),
        list(&[("y", 5.0), ("x", 3.0), ("w", 3.0)])
    );
    assert_eq!(zrevrange(&mut c, &format!("{p}b")), list(&[("x", 1.0)]));
    assert_eq!(
        zrevrange(&mut c, &format!("{t}1")),
        list(&[("m3", 1.5), ("m1", 0.5)])
    );
    assert_eq!(zrevrange(&mut c, &format!("{t}2")), list(&[("m2", 2.0)]));
    ctx.advance(1).unwrap();
    assert_eq!(
        zrevrange(&mut c, &format!("{p}a")),
        list(&[("q", 2.0), ("r", 1.0)])
    );
    // An empty list deletes its key; a key without a record is left as it is.
    let exists: bool = c.exists(format!("{p}b")).unwrap();
    assert!(!exists);
    assert_eq!(zrevrange(&mut c, &format!("{t}1")), list(&[("m4", -1.0)]));
    assert_eq!(zrevrange(&mut c, &format!("{t}2")), list(&[("m2", 2.0)]));
    ctx.stop().unwrap();
    clear(&mut c, &p);
    clear(&mut c, &t);
}

#[test]
fn a_batch_written_again_leaves_the_same_data_and_nothing_is_sent_before_commit() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let (h, z) = (key("replay-h"), key("replay-z:"));
    clear(&mut c, &h);
    clear(&mut c, &z);
    let mut hash = RedisHashSink::new(&url, &h).unwrap();
    let mut lists = RedisSortedSetSink::new(&url, &z).unwrap().top(2);
    let batch = || vec![("a".to_string(), 1u64), ("b".to_string(), 2)];
    let ranked = || vec![("k", vec![("a", 1u64), ("b", 2), ("c", 3)])];

    hash.write_partitions(Time(1000), vec![batch()]).unwrap();
    lists.write_partitions(Time(1000), vec![ranked()]).unwrap();
    let exists: bool = c.exists(&h).unwrap();
    assert!(!exists, "written, not committed: nothing served yet");
    Sink::<(String, u64)>::commit(&mut hash, Time(1000)).unwrap();
    Sink::<(&str, Vec<(&str, u64)>)>::commit(&mut lists, Time(1000)).unwrap();
    let (h1, z1) = (hgetall(&mut c, &h), zrevrange(&mut c, &format!("{z}k")));
    assert_eq!(h1, map(&[("a", "1"), ("b", "2")]));
    assert_eq!(z1, list(&[("c", 3.0), ("b", 2.0)]));
    // A recovered job writes the batch again, with the same records.
    for _ in 0..2 {
        hash.write_partitions(Time(1000), vec![batch()]).unwrap();
        Sink::<(String, u64)>::commit(&mut hash, Time(1000)).unwrap();
        lists.write_partitions(Time(1000), vec![ranked()]).unwrap();
        Sink::<(&str, Vec<(&str, u64)>)>::commit(&mut lists, Time(1000)).unwrap();
        assert_eq!(hgetall(&mut c, &h), h1);
        assert_eq!(zrevrange(&mut c, &format!("{z}k")), z1);
    }
    // A commit of another batch time sends nothing.
    hash.write_partitions(Time(2000), vec![vec![("a".to_string(), 9u64)]])
        .unwrap();
    Sink::<(String, u64)>::commit(&mut hash, Time(3000)).unwrap();
    assert_eq!(hgetall(&mut c, &h), h1);
    // A NaN score fails the batch before anything is sent.
    let nan = vec![vec![("k", vec![("a", f64::NAN)])]];
    assert!(lists.write_partitions(Time(4000), nan).is_err());
    clear(&mut c, &h);
    clear(&mut c, &z);
}

#[test]
fn a_reader_never_sees_a_list_half_old_half_new() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let p = key("atomic:");
    clear(&mut c, &p);
    // 20 lists of 50 members, all of version 1 or all of version 2 (scores 1 or 2, member
    // names per version), replaced 30 times while a reader reads them in a loop.
    let lists = |version: u64| -> Vec<(String, Vec<(String, u64)>)> {
        (0..20)
            .map(|k| {
                let members = (0..50)
                    .map(|m| (format!("v{version}-{m}"), version))
                    .collect();
                (format!("k{k}"), members)
            })
            .collect()
    };
    let mut sink = RedisSortedSetSink::new(&url, &p).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    sink.write_partitions(Time(1000), vec![lists(1)]).unwrap();
    Sink::<(String, Vec<(String, u64)>)>::commit(&mut sink, Time(1000)).unwrap();
    let reader = {
        let (stop, url, p) = (stop.clone(), url.clone(), p.clone());
        std::thread::spawn(move || {
            let mut c = conn(&url);
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for k in 0..20 {
                    let got = zrevrange(&mut c, &format!("{p}k{k}"));
                    assert_eq!(got.len(), 50, "a whole list, never an empty or partial one");
                    let version = got[0].1;
                    assert!(
                        got.iter()
                            .all(|(m, s)| *s == version && m.starts_with(&format!("v{version}-"))),
                        "one version per list: {got:?}"
                    );
                    reads += 1;
                }
            }
            reads
        })
    };
    for t in 2..32u64 {
        let version = 1 + t % 2;
        sink.write_partitions(
            Time(t * 1000),
            vec![lists(version)[..10].to_vec(), lists(version)[10..].to_vec()],
        )
        .unwrap();
        Sink::<(String, Vec<(String, u64)>)>::commit(&mut sink, Time(t * 1000)).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    clear(&mut c, &p);
}

/// The README's example, as quoted there.
fn serve_word_totals(
    ctx: &StreamingContext,
    url: &str,
    lines: Vec<Vec<&'static str>>,
    totals: &str,
    by_letter: &str,
) -> rill::Result<()> {
    // HGETALL {totals}: every word and its total.
    let totals = RedisHashSink::new(url, totals)?;
    // ZREVRANGE {by_letter}t 0 -1 WITHSCORES: the 3 most frequent words starting with t.
    let by_letter = RedisSortedSetSink::new(url, by_letter)?.top(3);
    stream! { ctx;
        let running = queue_stream(lines)
            .flat_map(|l| l.split_whitespace())
            .map(|w| (w, 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()));
        running.write_to(totals);
        running.map(|(w, n)| (w[..1].to_string(), w, n)).write_to(by_letter);
    }
    Ok(())
}

#[test]
fn the_readme_example_runs_as_quoted() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let this = std::fs::read_to_string(format!("{root}/tests/redis_serving.rs")).unwrap();
    let start = this.find("fn serve_word_totals(").unwrap();
    let end = start + this[start..].find("\n}\n").unwrap() + 3;
    assert!(
        readme.contains(&this[start..end]),
        "README.md must quote fn serve_word_totals of tests/redis_serving.rs as it stands"
    );
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let (totals, by_letter) = (key("readme-totals"), key("readme-letter:"));
    clear(&mut c, &totals);
    clear(&mut c, &by_letter);
    let ctx = manual(2);
    let lines = vec![
        vec!["to be or not to be", "that is the question"],
        vec!["to take arms against a sea of troubles"],
    ];
    serve_word_totals(&ctx, &url, lines, &totals, &by_letter).unwrap();
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    ctx.stop().unwrap();
    let all = hgetall(&mut c, &totals);
    assert_eq!(all.len(), 15);
    assert_eq!((all["to"].as_str(), all["be"].as_str()), ("3", "2"));
    // t: to 3, then that, the, take, troubles once each: the 3 best, ties last first.
    assert_eq!(
        zrevrange(&mut c, &format!("{by_letter}t")),
        list(&[("to", 3.0), ("troubles", 1.0), ("the", 1.0)])
    );
    assert_eq!(
        zrevrange(&mut c, &format!("{by_letter}a")),
        list(&[("arms", 1.0), ("against", 1.0), ("a", 1.0)])
    );
    clear(&mut c, &totals);
    clear(&mut c, &by_letter);
}
