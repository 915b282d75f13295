//! The recommender of `examples/recommend.rs` (feature `redis`): its pipeline fed clicks
//! whose answer is worked out by hand, the lists read back from Redis batch by batch;
//! then the example itself, killed with SIGKILL at random points and restarted from its
//! checkpoint, serves the same top-10 lists as an uninterrupted run on the same clicks.
//! Skips without a Redis server (`RILL_TEST_REDIS_URL`).

mod support;

// The example's pipeline, run here under a manual clock (its `main` is not used).
#[allow(dead_code)]
#[path = "../examples/recommend.rs"]
mod example;

use example::{Served, co_clicks, recommender};
use redis::Commands;
use rill::prelude::*;
use rill::source::{RedisOptions, StartAt, redis_string_stream};
use std::collections::BTreeMap;
use std::path::PathBuf;
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

/// Appends clicks (`user,item`) to `stream`, in one transaction, so that a batch takes
/// all of them or none.
fn click(c: &mut redis::Connection, stream: &str, clicks: &[&str]) {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for v in clicks {
        pipe.cmd("XADD").arg(stream).arg("*").arg("value").arg(*v);
    }
    let _: Vec<String> = pipe.query(c).unwrap();
}

/// Item `item`'s served list, best first.
fn zlist(c: &mut redis::Connection, prefix: &str, item: &str) -> Vec<(String, u64)> {
    let l: Vec<(String, f64)> = c
        .zrevrange_withscores(format!("{prefix}{item}"), 0, -1)
        .unwrap();
    l.into_iter().map(|(m, s)| (m, s as u64)).collect()
}

fn hash(c: &mut redis::Connection, prefix: &str, item: &str) -> BTreeMap<String, u64> {
    c.hgetall(format!("{prefix}{item}")).unwrap()
}

fn l(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(m, n)| (m.to_string(), *n)).collect()
}

fn h(items: &[(&str, u64)]) -> BTreeMap<String, u64> {
    items.iter().map(|(m, n)| (m.to_string(), *n)).collect()
}

#[test]
fn co_clicks_pairs_new_clicks_with_earlier_ones_and_each_other_once() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // The window holds a, b (earlier) and c, a (this batch).
    let mut got = co_clicks(&s(&["c", "a"]), &s(&["a", "b", "c", "a"]));
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("c", "a"),
        ("a", "c"),
        ("c", "b"),
        ("b", "c"),
        ("a", "b"),
        ("b", "a"),
        ("a", "c"),
        ("c", "a"),
    ]
    .iter()
    .map(|(x, y)| (x.to_string(), y.to_string()))
    .collect();
    want.sort();
    // c: with a and b (earlier); a: with b (earlier; the earlier a is itself), with c.
    assert_eq!(got, want);
}

#[test]
fn clicks_with_a_known_answer_are_served_batch_by_batch() {
    let Some(url) = redis_url() else { return };
    let mut c = conn(&url);
    let stream = key("clicks");
    let (zp, hp) = (key("related:"), key("related-h:"));
    let _: () = c.del(&stream).unwrap();
    clear(&mut c, &zp);
    clear(&mut c, &hp);

    // Two jobs on the same clicks, a 3 s window over 1 s batches: sorted sets with the
    // top 10, and hashes with the top 2.
    let job = |prefix: &str, hashes: bool, top: usize, group: &str| {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .build()
            .unwrap();
        let options = RedisOptions::default()
            .group(key(group))
            .start_at(StartAt::Earliest);
        let input = redis_string_stream(&url, [stream.clone()], options);
        let served = Served::new(&url, prefix, hashes).unwrap();
        recommender(&ctx, input, Duration::from_secs(3), top, served);
        ctx.start().unwrap();
        ctx
    };
    let zsets = job(&zp, false, 10, "z");
    let hashes = job(&hp, true, 2, "h");
    let batch = |c: &mut redis::Connection, clicks: &[&str]| {
        click(c, &stream, clicks);
        zsets.advance(1).unwrap();
        hashes.advance(1).unwrap();
    };

    // Batch 1: ann clicks a and b, bob a and c (and two lines that are no clicks).
    batch(
        &mut c,
        &["ann,a", "ann,b", "bob,a", "bob,c", "garbage", "ann,"],
    );
    // a-b once (ann), a-c once (bob). Ties: the item that sorts last first.
    assert_eq!(zlist(&mut c, &zp, "a"), l(&[("c", 1), ("b", 1)]));
    assert_eq!(zlist(&mut c, &zp, "b"), l(&[("a", 1)]));
    assert_eq!(zlist(&mut c, &zp, "c"), l(&[("a", 1)]));

    // Batch 2: ann clicks c (with her a and b of batch 1); cid clicks b and c.
    batch(&mut c, &["ann,c", "cid,b", "cid,c"]);
    // a: c twice (bob, ann), b once; b: c twice (ann, cid), a once; c: a twice, b twice.
    assert_eq!(zlist(&mut c, &zp, "a"), l(&[("c", 2), ("b", 1)]));
    assert_eq!(zlist(&mut c, &zp, "b"), l(&[("c", 2), ("a", 1)]));
    assert_eq!(zlist(&mut c, &zp, "c"), l(&[("b", 2), ("a", 2)]));
    assert_eq!(hash(&mut c, &hp, "c"), h(&[("a", 2), ("b", 2)]));
    // Deleted by hand: a list is written again only when its counts change.
    let _: () = c.del(format!("{zp}a")).unwrap();

    batch(&mut c, &[]);
    // Batch 4: the window (1 s, 4 s] no longer holds ann's a and b: d pairs with c only.
    batch(&mut c, &["ann,d"]);
    assert_eq!(zlist(&mut c, &zp, "c"), l(&[("b", 2), ("a", 2), ("d", 1)]));
    assert_eq!(zlist(&mut c, &zp, "d"), l(&[("c", 1)]));
    assert_eq!(zlist(&mut c, &zp, "a"), l(&[]), "a did not change");
    assert_eq!(zlist(&mut c, &zp, "b"), l(&[("c", 2), ("a", 1)]));
    // The top 2 of c: d is cut.
    assert_eq!(hash(&mut c, &hp, "c"), h(&[("a", 2), ("b", 2)]));
    assert_eq!(hash(&mut c, &hp, "d"), h(&[("c", 1)]));

    // Batch 5: bob's a and c (batch 1) are out of the window; batch 6: ann's d twice
    // relates d to nothing.
    batch(&mut c, &["bob,b"]);
    batch(&mut c, &["ann,d"]);
    assert_eq!(zlist(&mut c, &zp, "b"), l(&[("c", 2), ("a", 1)]));
    assert_eq!(zlist(&mut c, &zp, "d"), l(&[("c", 1)]));
    assert_eq!(hash(&mut c, &hp, "a"), h(&[("b", 1), ("c", 2)]));
    assert_eq!(hash(&mut c, &hp, "b"), h(&[("a", 1), ("c", 2)]));

    zsets.stop().unwrap();
    hashes.stop().unwrap();
    let _: () = c.del(&stream).unwrap();
    clear(&mut c, &zp);
    clear(&mut c, &hp);
}

/// The `recommend` example, built with the `redis` feature if this test runs alone.
fn recommend_example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("recommend{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = std::process::Command::new(cargo)
            .args(["build", "--features", "redis", "--example", "recommend"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot build the example recommend");
    }
    bin
}

/// The items of the catalogue.
const ITEMS: u64 = 14;

/// The served lists of every item of the catalogue that has one.
fn served(c: &mut redis::Connection, prefix: &str) -> BTreeMap<String, Vec<(String, u64)>> {
    (0..ITEMS)
        .map(|i| format!("i{i}"))
        .filter_map(|item| {
            let list = zlist(c, prefix, &item);
            (!list.is_empty()).then_some((item, list))
        })
        .collect()
}

/// What the lists must be: every pair of a user's clicks counted once both ways (a
/// user's clicks all fall within the window), the top 10 as ZREVRANGE ranks them.
fn model(users: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for items in users.values() {
        for (i, a) in items.iter().enumerate() {
            for b in &items[..i] {
                if a != b {
                    *counts
                        .entry(a.clone())
                        .or_default()
                        .entry(b.clone())
                        .or_default() += 1;
                    *counts
                        .entry(b.clone())
                        .or_default()
                        .entry(a.clone())
                        .or_default() += 1;
                }
            }
        }
    }
    counts
        .into_iter()
        .map(|(item, related)| {
            let mut list: Vec<(String, u64)> = related.into_iter().collect();
            list.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| y.0.cmp(&x.0)));
            list.truncate(10);
            (item, list)
        })
        .collect()
}

#[test]
fn the_example_killed_at_random_points_serves_what_an_uninterrupted_run_serves() {
    let Some(url) = redis_url() else { return };
    let started = std::time::Instant::now();
    let mut c = conn(&url);
    // The same clicks go to two streams: one read by a job that runs throughout, one by
    // a job killed and restarted from its checkpoint.
    let (s_whole, s_crash) = (key("crash-clicks-whole"), key("crash-clicks-killed"));
    let (p_whole, p_crash) = (key("crash-whole:"), key("crash-killed:"));
    for k in [&s_whole, &s_crash] {
        let _: () = c.del(k).unwrap();
    }
    clear(&mut c, &p_whole);
    clear(&mut c, &p_crash);
    let ckpt = std::env::temp_dir().join(format!("rill-recommend-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ckpt);
    let bin = recommend_example();
    let start = |stream: &str, prefix: &str, checkpoint: Option<&PathBuf>| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(["--url", &url, "--stream", stream, "--prefix", prefix])
            .args(["--group", &key("crash-group"), "--window", "10s"])
            .args(["--batch-interval", "100ms"])
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null());
        if let Some(dir) = checkpoint {
            cmd.arg("--checkpoint").arg(dir);
        }
        cmd.spawn().unwrap()
    };
    let mut whole = start(&s_whole, &p_whole, None);
    let mut job = start(&s_crash, &p_crash, Some(&ckpt));

    // User u{i} clicks two items at step i and one more at each of the next two steps:
    // a user's clicks span a few hundred milliseconds (more across a kill), well
    // within the 10 s window, and no user comes back later.
    let mut seed = support::crash_seed("recommend");
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kills = 0;
    let steps = 40usize;
    for i in 0..steps + 2 {
        let mut clicks = Vec::new();
        for (u, n) in [(i, 2), (i.wrapping_sub(1), 1), (i.wrapping_sub(2), 1)] {
            if u >= steps {
                continue;
            }
            for _ in 0..n {
                let item = format!("i{}", support::xorshift(&mut seed) % ITEMS);
                users.entry(format!("u{u}")).or_default().push(item.clone());
                clicks.push(format!("u{u},{item}"));
            }
        }
        let clicks: Vec<&str> = clicks.iter().map(String::as_str).collect();
        click(&mut c, &s_whole, &clicks);
        click(&mut c, &s_crash, &clicks);
        std::thread::sleep(Duration::from_millis(
            20 + support::xorshift(&mut seed) % 120,
        ));
        if support::xorshift(&mut seed) % 6 == 0 {
            job.kill().unwrap(); // SIGKILL
            job.wait().unwrap();
            kills += 1;
            // Down for a while: clicks arrive meanwhile, batch times are missed.
            std::thread::sleep(Duration::from_millis(support::xorshift(&mut seed) % 600));
            job = start(&s_crash, &p_crash, Some(&ckpt));
        }
    }
    let expected = model(&users);
    assert!(
        expected.values().any(|l| l.len() == 10),
        "some list is cut to 10"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (mut got_whole, mut got_crash) = (BTreeMap::new(), BTreeMap::new());
    while std::time::Instant::now() < deadline {
        got_whole = served(&mut c, &p_whole);
        got_crash = served(&mut c, &p_crash);
        if got_whole == expected && got_crash == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for p in [&mut whole, &mut job] {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    assert_eq!(
        got_whole, expected,
        "the uninterrupted run serves the model's lists"
    );
    assert_eq!(
        got_crash, got_whole,
        "the killed run serves the uninterrupted run's lists ({kills} kills)"
    );
    eprintln!("{kills} kills, {:?}", started.elapsed());
    for k in [&s_whole, &s_crash] {
        let _: () = c.del(k).unwrap();
    }
    clear(&mut c, &p_whole);
    clear(&mut c, &p_crash);
    let _ = std::fs::remove_dir_all(&ckpt);
}
