//! S3 objects → rill → PostgreSQL (features `object-store` and `postgres`):
//! `examples/s3_to_postgres.rs` is killed with SIGKILL at random points while objects
//! are put, and restarted from its checkpoint (one job checkpointed in a local
//! directory, one in the object store); the tables of totals they leave equal an
//! uninterrupted run's, and the totals of every word put. Skips without the S3 server
//! (`RILL_TEST_S3_ENDPOINT`) or PostgreSQL (`RILL_TEST_PG_DSN`).

mod support;

use postgres::{Client, NoTls};
use rill_runtime::store::objects::Prefix;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};
use support::{Lines, servers};

/// With the S3 server, sets the standard variables its client reads (and the jobs
/// inherit) once, before any client of this process exists.
fn set_env_once() {
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
        // SAFETY: called once under `Once`, first thing in the test, so no other thread
        // of this process reads the environment meanwhile (the harness read it before
        // starting the test; this file has one test).
        unsafe { std::env::set_var(k, v) };
    }
}

/// The `s3_to_postgres` example, built with its features if this test runs alone.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("s3_to_postgres{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "--features", "object-store,postgres"])
            .args(["--example", "s3_to_postgres"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot build the example s3_to_postgres");
    }
    bin
}

/// Every `(word, total)` of `table`; empty if it does not exist yet.
fn totals(client: &mut Client, table: &str) -> BTreeMap<String, i64> {
    match client.query(&format!("SELECT word, total FROM {table}"), &[]) {
        Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
        Err(_) => BTreeMap::new(),
    }
}

/// One run of the example: its process, and where its checkpoint is, if it has one.
struct Job {
    child: Child,
    table: String,
    checkpoint: Option<String>,
}

const WORDS: [&str; 9] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
];

#[test]
fn the_example_killed_at_random_points_leaves_the_table_of_an_uninterrupted_run() {
    set_env_once();
    let (Some(_), Some(dsn)) = (servers::s3_endpoint(), servers::pg_dsn()) else {
        return;
    };
    let started = Instant::now();
    let bucket = std::env::var("RILL_TEST_S3_BUCKET").unwrap_or_else(|_| servers::S3_BUCKET.into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let base = format!("s3-to-pg-{}-{nanos}", std::process::id());
    let input = Prefix::open(
        &format!("s3://{bucket}/{base}/in"),
        &bucket,
        &format!("{base}/in"),
    )
    .unwrap();
    let mut pg = Client::connect(&dsn, NoTls).unwrap();
    let table = |name: &str| format!("rill_s3pg_{name}_{}", std::process::id());
    let local_ckpt = std::env::temp_dir().join(format!("rill-s3pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&local_ckpt);
    let bin = example();
    let start = |table: &str, checkpoint: Option<&str>, announce: bool| {
        let mut cmd = Command::new(&bin);
        cmd.args(["--input", &format!("s3://{bucket}/{base}/in/")])
            .args(["--dsn", &dsn, "--table", table])
            .args(["--batch-interval", "200ms"])
            .env("RUST_LOG", "error")
            .stdout(if announce {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        if let Some(dir) = checkpoint {
            cmd.args(["--checkpoint", dir]);
        }
        let mut child = cmd.spawn().unwrap();
        if announce {
            // Objects there before a job's first start are not new to it: put none
            // before it listed the prefix.
            let out = Lines::read(child.stdout.take().unwrap());
            out.wait_for("the job's start", |l| l.starts_with("s3_to_postgres:"));
        }
        child
    };
    // One job runs throughout; two are killed and restarted, from a checkpoint in a
    // local directory and from one in the object store.
    let checkpoints = [
        None,
        Some(local_ckpt.display().to_string()),
        Some(format!("s3://{bucket}/{base}/checkpoint")),
    ];
    let mut jobs: Vec<Job> = ["whole", "local", "s3"]
        .iter()
        .zip(checkpoints)
        .map(|(name, checkpoint)| {
            let table = table(name);
            pg.batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
                .unwrap();
            let child = start(&table, checkpoint.as_deref(), true);
            Job {
                child,
                table,
                checkpoint,
            }
        })
        .collect();

    let mut seed = support::crash_seed("s3_to_postgres");
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    let mut kills = 0;
    let mut objects = 0;
    for step in 0..30 {
        let mut batch = Vec::new();
        for o in 0..1 + support::xorshift(&mut seed) % 2 {
            let mut text = String::new();
            for _ in 0..1 + support::xorshift(&mut seed) % 4 {
                let line: Vec<&str> = (0..1 + support::xorshift(&mut seed) % 6)
                    .map(|_| WORDS[(support::xorshift(&mut seed) % WORDS.len() as u64) as usize])
                    .collect();
                for w in &line {
                    *expected.entry(w.to_string()).or_default() += 1;
                }
                text.push_str(&line.join(" "));
                text.push('\n');
            }
            batch.push((format!("step{step:02}-{o}.txt"), text.into_bytes()));
            objects += 1;
        }
        input.put_all(batch).unwrap();
        std::thread::sleep(Duration::from_millis(
            20 + support::xorshift(&mut seed) % 150,
        ));
        for job in jobs.iter_mut().filter(|j| j.checkpoint.is_some()) {
            if support::xorshift(&mut seed) % 5 == 0 {
                job.child.kill().unwrap(); // SIGKILL
                job.child.wait().unwrap();
                kills += 1;
                // Down for a while: objects arrive meanwhile, batch times are missed.
                std::thread::sleep(Duration::from_millis(support::xorshift(&mut seed) % 500));
                job.child = start(&job.table, job.checkpoint.as_deref(), false);
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got: Vec<BTreeMap<String, i64>> = Vec::new();
    while Instant::now() < deadline {
        got = jobs.iter().map(|j| totals(&mut pg, &j.table)).collect();
        if got.iter().all(|t| *t == expected) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for job in &mut jobs {
        job.child.kill().unwrap();
        job.child.wait().unwrap();
    }
    assert_eq!(
        got[0], expected,
        "the uninterrupted run counts every word put"
    );
    assert_eq!(
        got[1], got[0],
        "checkpointed in a directory, killed: the uninterrupted run's table ({kills} kills in all)"
    );
    assert_eq!(
        got[2], got[0],
        "checkpointed in the object store, killed: the uninterrupted run's table ({kills} kills in all)"
    );
    eprintln!("{objects} objects, {kills} kills, {:?}", started.elapsed());
    for job in &jobs {
        pg.batch_execute(&format!("DROP TABLE {}", job.table))
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(&local_ckpt);
    // The objects and the checkpoint in the store: moto keeps them while it runs.
    let all = Prefix::open(&format!("s3://{bucket}/{base}"), &bucket, &base).unwrap();
    for o in all.list("").unwrap() {
        all.delete(&o.key).unwrap();
    }
}
