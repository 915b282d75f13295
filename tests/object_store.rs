//! Object store URLs: `text_file_stream`, `save_as_text_files` and `checkpoint_dir` on
//! `s3://` (with the `object-store` feature, against the S3 server `.ci/servers` starts;
//! skipped without it) and on `file://` (always).
//!
//! `cargo test --features object-store --test object_store -- --nocapture` also prints
//! the rates measured against the server.

mod support;

use rill::prelude::*;
use std::path::{Path, PathBuf};

/// Sets the S3 client's environment before anything else runs (every test calls it
/// first, so no thread reads the environment while it is written).
fn env() {
    #[cfg(feature = "object-store")]
    s3::set_env_once();
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-objects-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every file under `dir` (relative names, `/`-separated) with its contents, sorted.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let name = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((name, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The word count of the tests: each batch's counts, written as text files.
fn word_count(ctx: &StreamingContext, input: String, output: String) {
    stream! { ctx;
        text_file_stream(input)
            .flat_map(|l| l.split(' '))
            .map(|w| (w.to_string(), 1u64))
            .reduce_by_key(|a, b| a + b)
            .save_as_text_files(output, "txt");
    }
}

fn manual(parallelism: usize) -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(parallelism)
        .manual_clock()
        .build()
        .unwrap()
}

/// What the input files of the word count hold, batch by batch.
const BATCHES: [&[(&str, &str)]; 2] = [
    &[("a.txt", "to be or\nnot to be\n"), ("b.txt", "be quick")],
    &[
        ("c.txt", "quick quick slow\n"),
        ("_c.txt.tmp", "half written\n"),
        (".hidden", "not read\n"),
    ],
];

#[test]
fn file_urls_need_no_feature() {
    env();
    let (input, output) = (temp("file-in"), temp("file-out"));
    let ctx = manual(2);
    word_count(
        &ctx,
        format!("file://{}", input.display()),
        format!("file://{}/counts", output.display()),
    );
    ctx.start().unwrap();
    for batch in BATCHES {
        for (name, text) in batch {
            std::fs::write(input.join(name), text).unwrap();
        }
        ctx.advance(1).unwrap();
    }
    ctx.stop().unwrap();
    let files = tree(&output);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "counts-1000.txt/_SUCCESS",
            "counts-1000.txt/part-00000",
            "counts-1000.txt/part-00001",
            "counts-2000.txt/_SUCCESS",
            "counts-2000.txt/part-00000",
            "counts-2000.txt/part-00001",
        ]
    );
    let mut second: Vec<&str> = files[3..].iter().flat_map(|(_, t)| t.lines()).collect();
    second.sort();
    assert_eq!(second, ["(\"quick\", 2)", "(\"slow\", 1)"]);
}

#[test]
fn unsupported_schemes_fail_the_start_with_a_configuration_error() {
    env();
    let ctx = manual(1);
    stream! { ctx;
        text_file_stream("hdfs://namenode/in").print();
    }
    match ctx.start() {
        Err(rill::Error::Config(m)) => assert!(m.contains("hdfs:// is not supported"), "{m}"),
        other => panic!("not a configuration error: {other:?}"),
    }
}

#[cfg(not(feature = "object-store"))]
#[test]
fn s3_urls_without_the_feature_are_a_configuration_error() {
    let ctx = manual(1);
    stream! { ctx;
        text_file_stream("s3://bucket/in/").print();
    }
    match ctx.start() {
        Err(rill::Error::Config(m)) => assert!(m.contains("object-store"), "{m}"),
        other => panic!("not a configuration error: {other:?}"),
    }
    let ckpt = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .manual_clock()
        .checkpoint_dir("s3://bucket/ckpt")
        .build()
        .unwrap();
    assert!(matches!(ckpt.start(), Err(rill::Error::Config(_))));
}

#[cfg(feature = "object-store")]
mod s3 {
    use super::*;
    use rill_runtime::store::objects::Prefix;
    use std::sync::Once;
    use std::time::Instant;
    use support::servers;

    /// The bucket of the test server, with the client's environment set for it; None
    /// (the test skips) without a server.
    fn bucket() -> Option<String> {
        set_env_once();
        servers::s3_endpoint()?;
        Some(std::env::var("RILL_TEST_S3_BUCKET").unwrap_or_else(|_| servers::S3_BUCKET.into()))
    }

    /// With a test server, sets the standard variables the client reads
    /// (`AmazonS3Builder::from_env`) for it, once, before any client of this process
    /// exists.
    pub fn set_env_once() {
        static ENV: Once = Once::new();
        ENV.call_once(|| {
            if let Ok(endpoint) = std::env::var("RILL_TEST_S3_ENDPOINT") {
                set_env(&endpoint);
            }
        });
    }

    #[allow(unsafe_code)]
    fn set_env(endpoint: &str) {
        for (k, v) in [
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ALLOW_HTTP", "true"),
        ] {
            // SAFETY: called once under `Once`, which every test of this file calls
            // before anything else, so no other thread of this process reads the
            // environment meanwhile (the harness read it before starting the tests).
            unsafe { std::env::set_var(k, v) };
        }
    }

    /// A key prefix of its own for each test and run: moto keeps objects for the life
    /// of the server.
    fn unique(test: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        format!("{test}-{}-{nanos}", std::process::id())
    }

    fn prefix(bucket: &str, key: &str) -> Prefix {
        Prefix::open(&format!("s3://{bucket}/{key}"), bucket, key).unwrap()
    }

    /// Every object under `p` with its contents, sorted by key.
    fn objects(p: &Prefix) -> Vec<(String, String)> {
        p.list("")
            .unwrap()
            .into_iter()
            .map(|o| {
                let data = p.get(&o.key).unwrap().unwrap();
                (o.key, String::from_utf8(data).unwrap())
            })
            .collect()
    }

    #[test]
    fn a_word_count_from_objects_to_objects_equals_the_local_one() {
        let Some(bucket) = bucket() else { return };
        let started = Instant::now();
        let base = unique("wordcount");
        let input = prefix(&bucket, &format!("{base}/in"));
        let output = prefix(&bucket, &format!("{base}/out"));
        let s3 = manual(2);
        word_count(
            &s3,
            format!("s3://{bucket}/{base}/in/"),
            format!("s3://{bucket}/{base}/out/counts"),
        );
        // The same job on local directories, for the exact expected output.
        let (local_in, local_out) = (temp("wc-in"), temp("wc-out"));
        let local = manual(2);
        word_count(
            &local,
            local_in.display().to_string(),
            format!("{}/counts", local_out.display()),
        );
        // Present before start: not new, as in Spark.
        input.put("before.txt", b"old words\n".to_vec()).unwrap();
        s3.start().unwrap();
        local.start().unwrap();
        for batch in BATCHES {
            for (name, text) in batch {
                input.put(name, text.as_bytes().to_vec()).unwrap();
                std::fs::write(local_in.join(name), text).unwrap();
            }
            s3.advance(1).unwrap();
            local.advance(1).unwrap();
        }
        // A batch with no new object writes its (empty) parts and _SUCCESS too.
        s3.advance(1).unwrap();
        local.advance(1).unwrap();
        s3.stop().unwrap();
        local.stop().unwrap();
        let written = objects(&output);
        assert_eq!(written, tree(&local_out));
        let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "counts-1000.txt/_SUCCESS",
                "counts-1000.txt/part-00000",
                "counts-1000.txt/part-00001",
                "counts-2000.txt/_SUCCESS",
                "counts-2000.txt/part-00000",
                "counts-2000.txt/part-00001",
                "counts-3000.txt/_SUCCESS",
                "counts-3000.txt/part-00000",
                "counts-3000.txt/part-00001",
            ]
        );
        let mut first: Vec<&str> = written[..3].iter().flat_map(|(_, t)| t.lines()).collect();
        first.sort();
        assert_eq!(
            first,
            [
                "(\"be\", 3)",
                "(\"not\", 1)",
                "(\"or\", 1)",
                "(\"quick\", 1)",
                "(\"to\", 2)"
            ]
        );
        assert!(
            written
                .iter()
                .all(|(n, t)| !n.ends_with("_SUCCESS") || t.is_empty())
        );
        eprintln!("word count over s3: {:?}", started.elapsed());
    }

    #[test]
    fn a_rewritten_batch_replaces_its_objects_and_writes_success_last() {
        let Some(bucket) = bucket() else { return };
        let base = unique("rewrite");
        let url = format!("s3://{bucket}/{base}/w");
        let out = rill_runtime::sinks::text_files::TextFiles::new(url, "");
        let dir = prefix(&bucket, &base);
        out.write_batch(Time(1000), &[vec![1, 2], vec![3], vec![4]])
            .unwrap();
        // Recomputed with fewer partitions: the third part goes.
        out.write_batch(Time(1000), &[vec![7], vec![8, 9]]).unwrap();
        assert_eq!(
            objects(&dir),
            [
                ("w-1000/_SUCCESS".to_string(), String::new()),
                ("w-1000/part-00000".to_string(), "7\n".to_string()),
                ("w-1000/part-00001".to_string(), "8\n9\n".to_string()),
            ]
        );
    }

    #[test]
    fn an_object_older_than_the_remember_window_is_ignored() {
        let Some(bucket) = bucket() else { return };
        let base = unique("window");
        let input = prefix(&bucket, &base);
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(1)
            .manual_clock()
            .file_remember_duration(Duration::from_secs(2))
            .build()
            .unwrap();
        let lines = stream! { ctx;
            text_file_stream(format!("s3://{bucket}/{base}")).collect()
        };
        ctx.start().unwrap();
        // Written after start, but listed only when older than the window (2 s; the
        // store's times are whole seconds): not new, as in Spark.
        input.put("old.txt", b"old\n".to_vec()).unwrap();
        std::thread::sleep(Duration::from_millis(3500));
        input.put("new.txt", b"new\n".to_vec()).unwrap();
        ctx.advance(2).unwrap();
        assert_eq!(lines.take(), vec![vec!["new".to_string()], vec![]]);
    }

    type Totals = Collected<(String, u64)>;

    /// The job of tests/recovery.rs over objects: running totals per word of the lines
    /// of new objects, checkpointed under `ckpt`.
    fn job(ckpt: &str, input: &str) -> rill::Result<(StreamingContext, Totals)> {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .checkpoint_dir(ckpt)
            .checkpoint_interval(Duration::from_secs(2))
            .build()?;
        let input = input.to_string();
        let totals = stream! { ctx;
            text_file_stream(input)
                .flat_map(|l| l.split(' '))
                .map(|w| (w.to_string(), 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                .collect()
        };
        Ok((ctx, totals))
    }

    fn run(
        ctx: &StreamingContext,
        totals: &Totals,
        input: &Prefix,
        from: usize,
        to: usize,
    ) -> Vec<Vec<(String, u64)>> {
        for b in from..to {
            let text = format!("a b{} c\na\n", b % 3);
            input
                .put(&format!("f{b:03}.txt"), text.into_bytes())
                .unwrap();
            ctx.advance(1).unwrap();
        }
        totals
            .take()
            .into_iter()
            .map(|mut v| {
                v.sort();
                v
            })
            .collect()
    }

    #[test]
    fn a_job_checkpointed_in_the_store_resumes_exactly() {
        let Some(bucket) = bucket() else { return };
        let started = Instant::now();
        let urls = |name: &str| {
            let base = unique(name);
            (
                format!("s3://{bucket}/{base}/ckpt"),
                format!("s3://{bucket}/{base}/in/"),
                prefix(&bucket, &format!("{base}/in")),
                prefix(&bucket, &format!("{base}/ckpt")),
            )
        };
        // Uninterrupted.
        let (ckpt, input, objects_in, _) = urls("plain");
        let (ctx, totals) = job(&ckpt, &input).unwrap();
        ctx.start().unwrap();
        let expected = run(&ctx, &totals, &objects_in, 0, 8);
        drop(ctx);

        // Stopped after batch 5 (snapshots at 2 s and 4 s; batch 5 only in the log).
        let (ckpt, input, objects_in, objects_ckpt) = urls("resumed");
        let (ctx, totals) = job(&ckpt, &input).unwrap();
        ctx.start().unwrap();
        let mut got = run(&ctx, &totals, &objects_in, 0, 5);
        drop(ctx);
        let keys: Vec<String> = objects_ckpt
            .list("")
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(
            keys,
            [
                "batches/00000000000000003000.cut",
                "batches/00000000000000003000.done",
                "batches/00000000000000004000.cut",
                "batches/00000000000000004000.done",
                "batches/00000000000000005000.cut",
                "batches/00000000000000005000.done",
                "checkpoint-00000000000000002000",
                "checkpoint-00000000000000004000",
            ],
            "two snapshots kept, the log compacted up to the older one's batch"
        );
        let mut handle = None;
        let ctx = StreamingContext::get_or_create(&ckpt, || {
            let (ctx, totals) = job(&ckpt, &input)?;
            handle = Some(totals);
            Ok(ctx)
        })
        .unwrap();
        let totals = handle.unwrap();
        ctx.start().unwrap();
        // Batch 5 is recomputed from the log for its state; its outputs completed.
        ctx.advance(1).unwrap();
        assert!(totals.take().is_empty());
        got.extend(run(&ctx, &totals, &objects_in, 5, 8));
        assert_eq!(got, expected);
        assert!(
            !Path::new("s3:").exists(),
            "nothing was written to a local directory named after the URL"
        );
        drop(ctx);
        // A plain start() on the prefix begins a new run: the old one is discarded.
        let (ctx, _) = job(&ckpt, &input).unwrap();
        ctx.start().unwrap();
        let keys: Vec<String> = objects_ckpt
            .list("")
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(keys, ["checkpoint-00000000000000000000"]);
        eprintln!("checkpoint recovery over s3: {:?}", started.elapsed());
    }

    #[test]
    fn the_write_ahead_log_is_refused_in_an_object_store() {
        env();
        let built = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .checkpoint_dir("s3://bucket/ckpt")
            .write_ahead_log(true)
            .build();
        match built {
            Err(rill::Error::Config(m)) => assert!(m.contains("write-ahead log"), "{m}"),
            Err(e) => panic!("not a configuration error: {e}"),
            Ok(_) => panic!("built"),
        }
    }

    #[test]
    fn a_missing_bucket_is_a_typed_error_not_a_panic() {
        let Some(_) = bucket() else { return };
        let missing = unique("no-such-bucket");
        let ctx = manual(1);
        stream! { ctx;
            text_file_stream(format!("s3://{missing}/in/")).print();
        }
        match ctx.start() {
            Err(rill::Error::ObjectStore { context, .. }) => {
                assert!(context.contains(&missing), "{context}")
            }
            other => panic!("not an object store error: {other:?}"),
        }
        // An output to it fails its batch, which stops the context with the error.
        let ctx = manual(1);
        stream! { ctx;
            queue_stream(vec![vec![1, 2]]).save_as_text_files(format!("s3://{missing}/out"), "");
        }
        ctx.start().unwrap();
        assert!(matches!(
            ctx.advance(1),
            Err(rill::Error::ObjectStore { .. })
        ));
        assert!(matches!(
            ctx.await_termination(),
            Err(rill::Error::ObjectStore { .. })
        ));
    }

    /// Rates against the server: objects/s and MB/s put by the client, read by
    /// `text_file_stream`, and written by `save_as_text_files`. Printed, not asserted
    /// (moto is a single Python process).
    #[test]
    fn rates_against_the_server() {
        let Some(bucket) = bucket() else { return };
        let base = unique("rates");
        let input = prefix(&bucket, &format!("{base}/in"));
        let (n, size) = (100usize, 64 * 1024usize);
        let line = format!("{}\n", "x".repeat(63));
        let body = line.repeat(size / line.len()).into_bytes();
        let mb = |objects: usize, bytes: usize| (objects, bytes as f64 / 1e6);
        let rate = |what: &str, (objects, mbytes): (usize, f64), took: Duration| {
            let s = took.as_secs_f64();
            eprintln!(
                "{what}: {objects} objects, {mbytes:.1} MB in {s:.2} s = {:.0} objects/s, {:.1} MB/s",
                objects as f64 / s,
                mbytes / s
            );
        };

        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .build()
            .unwrap();
        let count = stream! { ctx;
            text_file_stream(format!("s3://{bucket}/{base}/in/")).count().collect()
        };
        ctx.start().unwrap();
        let t = Instant::now();
        let objects: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| (format!("f{i:04}.txt"), body.clone()))
            .collect();
        input.put_all(objects).unwrap();
        rate(
            "put (client, 8 at a time)",
            mb(n, n * body.len()),
            t.elapsed(),
        );
        let t = Instant::now();
        ctx.advance(1).unwrap();
        let took = t.elapsed();
        let lines = (body.len() / line.len() * n) as u64;
        assert_eq!(count.take(), vec![vec![lines]]);
        rate("text_file_stream read", mb(n, n * body.len()), took);
        ctx.stop().unwrap();

        // save_as_text_files: one batch of 8 MB in 2 parts, then 20 small batches.
        let ctx = manual(2);
        let big: Vec<String> = (0..130_000).map(|i| format!("{i:060}")).collect();
        let mut batches = vec![big];
        batches.extend((0..20).map(|i| vec![format!("batch {i}")]));
        stream! { ctx;
            queue_stream(batches).save_as_text_files(format!("s3://{bucket}/{base}/out/w"), "");
        }
        ctx.start().unwrap();
        let t = Instant::now();
        ctx.advance(1).unwrap();
        rate(
            "save_as_text_files, one large batch (2 parts + _SUCCESS)",
            mb(3, 130_000 * 63),
            t.elapsed(),
        );
        let t = Instant::now();
        ctx.advance(20).unwrap();
        rate(
            "save_as_text_files, 20 small batches (3 objects each)",
            mb(60, 20 * 10),
            t.elapsed(),
        );
        ctx.stop().unwrap();
    }
}

#[test]
fn readme_shows_the_object_store_example_as_it_stands() {
    env();
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example =
        std::fs::read_to_string(format!("{root}/examples/object_store_wordcount.rs")).unwrap();
    let start = example.find("fn main()").expect("the example has fn main");
    let end = start + example[start..].find("\n}\n").expect("fn main ends") + 3;
    assert!(
        readme.contains(&example[start..end]),
        "README.md must quote fn main of examples/object_store_wordcount.rs as it stands"
    );
}
