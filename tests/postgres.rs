//! The PostgreSQL connector (feature `postgres`) against a real server: `PostgresSink`
//! upserts compared exactly with a `SELECT`, replays leaving the table unchanged, and
//! `postgres_table` read once across a restart. Skips without `RILL_TEST_PG_DSN`.
#![cfg(feature = "postgres")]

mod support;

use postgres::{Client, NoTls};
use rill::prelude::*;
use rill::sink::{PostgresError, PostgresSink, Sink};
use rill::source::{PostgresTableOptions, ReplayableSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use support::servers::pg_dsn;

/// A table name unique to this process and test, dropped if it is there.
fn table(client: &mut Client, test: &str) -> String {
    let name = format!("rill_{test}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {name}"))
        .unwrap();
    name
}

/// Drops the tables of a test that passed (a failed one leaves them to look at).
fn drop_tables(client: &mut Client, tables: &[&String]) {
    for t in tables {
        client.batch_execute(&format!("DROP TABLE {t}")).unwrap();
    }
}

fn client(dsn: &str) -> Client {
    Client::connect(dsn, NoTls).unwrap()
}

/// Every `(k, v)` of a table, by key.
fn read_kv<V: for<'a> postgres::types::FromSql<'a>>(
    client: &mut Client,
    table: &str,
    value: &str,
) -> Vec<(String, V)> {
    client
        .query(&format!("SELECT k, {value} FROM {table} ORDER BY k"), &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-pg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Three batches from a queue through `stream!` into the sink: the table holds each
/// key's last value and the time of the batch that wrote it, exactly.
#[test]
fn a_stream_upserts_every_batch_into_the_table() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let t = table(&mut c, "stream");
    let batches: Vec<Vec<(String, i64)>> = vec![
        vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 3)],
        vec![("b".into(), 20), ("d".into(), 40)],
        vec![],
        vec![("a".into(), 100), ("e".into(), 5)],
    ];
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let sink = PostgresSink::new(dsn.clone(), t.clone())
        .key_column("k")
        .value_columns(["v"])
        .batch_time_column("batch_ms")
        .create_table(true);
    let times = Arc::new(Mutex::new(Vec::new()));
    let seen = times.clone();
    let input = batches.clone();
    stream! { ctx;
        let pairs = queue_stream(input);
        pairs.write_to(sink);
        pairs.for_each_batch(move |time, _| seen.lock().unwrap().push(time.millis() as i64));
    };
    ctx.start().unwrap();
    ctx.advance(4).unwrap();
    ctx.stop().unwrap();
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 4);
    let mut expected = BTreeMap::new();
    for (batch, time) in batches.iter().zip(&times) {
        for (k, v) in batch {
            expected.insert(k.clone(), (*v, *time));
        }
    }
    let expected: Vec<(String, (i64, i64))> = expected.into_iter().collect();
    let got: Vec<(String, (i64, i64))> = c
        .query(&format!("SELECT k, v, batch_ms FROM {t} ORDER BY k"), &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    assert_eq!(got, expected);
    drop_tables(&mut c, &[&t]);
}

/// A batch written again with the same time and records (a recovered context's replay)
/// leaves the table as it was; a batch written and never committed (a crash before the
/// commit) leaves nothing, and its replay by a new sink writes it.
#[test]
fn a_replayed_batch_leaves_the_table_unchanged() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let t = table(&mut c, "replay");
    let new_sink = || {
        PostgresSink::new(dsn.clone(), t.clone())
            .batch_time_column("batch_ms")
            .create_table(true)
    };
    let b1: Vec<(String, f64)> = vec![("x".into(), 1.5), ("y".into(), 2.5)];
    let b2: Vec<(String, f64)> = vec![("y".into(), -1.0), ("z".into(), 0.25)];
    let mut sink = new_sink();
    sink.write(Time(1000), b1.clone()).unwrap();
    sink.commit(Time(1000)).unwrap();
    sink.write(Time(2000), b2.clone()).unwrap();
    sink.commit(Time(2000)).unwrap();
    let read = |c: &mut Client| -> Vec<(String, f64, i64)> {
        c.query(&format!("SELECT k, v, batch_ms FROM {t} ORDER BY k"), &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    };
    let before = read(&mut c);
    assert_eq!(
        before,
        [
            ("x".to_string(), 1.5, 1000),
            ("y".to_string(), -1.0, 2000),
            ("z".to_string(), 0.25, 2000)
        ]
    );
    // The replay of the last batch, by the same sink and by a new one.
    sink.write(Time(2000), b2.clone()).unwrap();
    sink.commit(Time(2000)).unwrap();
    assert_eq!(read(&mut c), before);
    let mut again = new_sink();
    again.write(Time(2000), b2).unwrap();
    again.commit(Time(2000)).unwrap();
    assert_eq!(read(&mut c), before);

    // Written, not committed: invisible, and gone with the sink.
    let b3: Vec<(String, f64)> = vec![("x".into(), 9.0), ("w".into(), 9.5)];
    again.write(Time(3000), b3.clone()).unwrap();
    assert_eq!(read(&mut c), before);
    drop(again);
    assert_eq!(read(&mut c), before);
    let mut recovered = new_sink();
    recovered.write(Time(3000), b3).unwrap();
    recovered.commit(Time(3000)).unwrap();
    let after = read(&mut c);
    assert_eq!(after.len(), 4);
    assert!(after.contains(&("x".to_string(), 9.0, 3000)));
    assert!(after.contains(&("w".to_string(), 9.5, 3000)));
    drop_tables(&mut c, &[&t]);
}

/// A batch holding a key several times (which one `INSERT ... ON CONFLICT` refuses)
/// keeps its last value, in partition order; tuple keys and values map to columns.
#[test]
fn a_batch_with_duplicate_keys_keeps_the_last_value_of_each() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let t = table(&mut c, "dups");
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(3)
        .manual_clock()
        .build()
        .unwrap();
    let sink = PostgresSink::new(dsn.clone(), t.clone())
        .key_columns(["region", "id"])
        .value_columns(["name", "score", "ok"])
        .create_table(true)
        .chunk_rows(2);
    let records: Vec<((String, i32), (Option<String>, u64, bool))> = (0..30)
        .map(|i| {
            let name = (i % 4 != 0).then(|| format!("n{i}"));
            (((i % 2).to_string(), i % 5), (name, i as u64, i % 3 == 0))
        })
        .collect();
    let input = vec![records.clone()];
    stream! { ctx;
        queue_stream(input).write_to(sink);
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    ctx.stop().unwrap();
    let mut expected = BTreeMap::new();
    for (k, v) in records {
        expected.insert(k, v);
    }
    let expected: Vec<_> = expected
        .into_iter()
        .map(|((r, id), (n, s, ok))| (r, id, n, s as i64, ok))
        .collect();
    let got: Vec<(String, i32, Option<String>, i64, bool)> = c
        .query(
            &format!("SELECT region, id, name, score, ok FROM {t} ORDER BY region, id"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(got.len(), 10);
    assert_eq!(got, expected);
    drop_tables(&mut c, &[&t]);
}

/// Fills `table` (created here) with `lines` rows `(id bigserial, line text)`.
fn lines_table(client: &mut Client, table: &str) {
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id bigserial PRIMARY KEY, line text NOT NULL)"
        ))
        .unwrap();
}

fn insert_lines(client: &mut Client, table: &str, lines: &[String]) {
    client
        .execute(
            &format!("INSERT INTO {table} (line) SELECT * FROM UNNEST($1::text[])"),
            &[&lines],
        )
        .unwrap();
}

/// Deterministic lines of a few words each.
fn lines(from: usize, n: usize) -> Vec<String> {
    (from..from + n)
        .map(|i| format!("w{} w{} w{}", i % 7, i % 11, i % 3))
        .collect()
}

/// The word counts of the lines of `source`, as PostgreSQL's own `GROUP BY` counts them.
fn word_counts(client: &mut Client, source: &str) -> Vec<(String, i64)> {
    client
        .query(
            &format!(
                "SELECT w, count(*) FROM {source}, regexp_split_to_table(line, ' ') AS w \
                 GROUP BY w ORDER BY w"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Table → words → `reduce_by_key` → running totals → sink, a few rows per batch, with
/// the default text rows: the sink's table is PostgreSQL's own `GROUP BY`.
#[test]
fn a_table_word_count_into_the_sink_is_exact() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let src = table(&mut c, "wc_src");
    let out = table(&mut c, "wc_out");
    lines_table(&mut c, &src);
    insert_lines(&mut c, &src, &lines(0, 40));
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let sink = PostgresSink::new(dsn.clone(), out.clone()).create_table(true);
    let (d, s) = (dsn.clone(), src.clone());
    let counts = stream! { ctx;
        let rows = postgres_table(d, s, "id", PostgresTableOptions::new().max_rows_per_batch(7));
        let words = rows
            .flat_map(|row| row[1].clone().unwrap_or_default().split(' ').map(String::from).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b);
        words
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
            .write_to(sink);
        rows.count().collect()
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    insert_lines(&mut c, &src, &lines(40, 25));
    ctx.advance(10).unwrap();
    ctx.stop().unwrap();
    let per_batch: Vec<u64> = counts.take().concat();
    assert_eq!(per_batch.iter().sum::<u64>(), 65);
    assert!(per_batch.iter().all(|n| *n <= 7), "{per_batch:?}");
    let (expected, got) = (word_counts(&mut c, &src), read_kv(&mut c, &out, "v"));
    assert_eq!(got, expected);
    drop_tables(&mut c, &[&src, &out]);
}

/// The job of the restart test: typed rows of the table counted into running totals,
/// checkpointed every two batches.
fn restart_job(ckpt: &Path, dsn: &str, src: &str, out: &str) -> (StreamingContext, Collected<u64>) {
    let mut handle = None;
    let ctx = StreamingContext::get_or_create(ckpt, || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .checkpoint_dir(ckpt)
            .checkpoint_interval(Duration::from_secs(2))
            .build()?;
        let sink = PostgresSink::new(dsn, out).create_table(true);
        let options = PostgresTableOptions::new()
            .max_rows_per_batch(5)
            .rows(|row| row.get::<_, String>("line"));
        let (d, s) = (dsn.to_string(), src.to_string());
        handle = Some(stream! { ctx;
            let lines = postgres_table(d, s, "id", options);
            lines
                .flat_map(|l| l.split(' '))
                .map(|w| (w, 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                .write_to(sink);
            lines.count().collect()
        });
        Ok(ctx)
    })
    .unwrap();
    (ctx, handle.unwrap())
}

/// The source's position is checkpointed: stopped between checkpoints and resumed
/// with `get_or_create`, the job counts every row once (outputs and totals).
#[test]
fn the_table_position_survives_a_restart() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let src = table(&mut c, "restart_src");
    let out = table(&mut c, "restart_out");
    lines_table(&mut c, &src);
    insert_lines(&mut c, &src, &lines(0, 23));
    let ckpt = temp("restart");
    let (ctx, counts) = restart_job(&ckpt, &dsn, &src, &out);
    ctx.start().unwrap();
    // Five batches of 5, 5, 5, 5, 3 rows; the checkpoint of the fourth is the newest.
    ctx.advance(5).unwrap();
    ctx.stop().unwrap();
    drop(ctx);
    let first: Vec<u64> = counts.take().concat();
    assert_eq!(first, [5, 5, 5, 5, 3]);
    insert_lines(&mut c, &src, &lines(23, 9));

    let (ctx, counts) = restart_job(&ckpt, &dsn, &src, &out);
    ctx.start().unwrap();
    ctx.advance(4).unwrap();
    ctx.stop().unwrap();
    let second: u64 = counts.take().concat().iter().sum();
    assert_eq!(second, 9, "every row after the stop counted once");
    let (expected, got) = (word_counts(&mut c, &src), read_kv(&mut c, &out, "v"));
    assert_eq!(got, expected, "totals count every row once");
    std::fs::remove_dir_all(&ckpt).unwrap();
    drop_tables(&mut c, &[&src, &out]);
}

/// Both halves reconnect when the server ends their sessions between batches.
#[test]
fn a_dropped_connection_is_reconnected() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let src = table(&mut c, "reconnect_src");
    let out = table(&mut c, "reconnect_out");
    lines_table(&mut c, &src);
    insert_lines(&mut c, &src, &lines(0, 10));
    let app = format!("rill_reconnect_{}", std::process::id());
    let app_dsn = format!("{dsn} application_name={app}");
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let sink = PostgresSink::new(app_dsn.clone(), out.clone()).create_table(true);
    let s = src.clone();
    stream! { ctx;
        postgres_table(app_dsn, s, "id", PostgresTableOptions::new())
            .flat_map(|row| row[1].clone().unwrap_or_default().split(' ').map(String::from).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
            .write_to(sink);
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    let killed: i64 = c
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 2, "the source's and the sink's sessions");
    insert_lines(&mut c, &src, &lines(10, 10));
    ctx.advance(2).unwrap();
    ctx.stop().unwrap();
    let (expected, got) = (word_counts(&mut c, &src), read_kv(&mut c, &out, "v"));
    assert_eq!(got, expected);

    // Dropped between the write and the commit: the commit runs the batch again.
    let t = table(&mut c, "reconnect_commit");
    let app = format!("{app}_commit");
    let mut sink =
        PostgresSink::new(format!("{dsn} application_name={app}"), t.clone()).create_table(true);
    sink.write(
        Time(1000),
        vec![(1i64, "one".to_string()), (2, "two".into())],
    )
    .unwrap();
    let killed: i64 = c
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    sink.commit(Time(1000)).unwrap();
    let got: Vec<(i64, String)> = c
        .query(&format!("SELECT k, v FROM {t} ORDER BY k"), &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(got, [(1, "one".to_string()), (2, "two".to_string())]);
    drop_tables(&mut c, &[&src, &out, &t]);
}

/// Failures are typed errors: a missing table (no `create_table`) carries its SQLSTATE,
/// a server that is not there is a connection failure; the context stops with them.
#[test]
fn failures_are_typed_errors() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let t = table(&mut c, "missing");
    let mut sink = PostgresSink::new(dsn.clone(), t.clone());
    let err = sink.write(Time(1000), vec![(1i64, 1i64)]).unwrap_err();
    let pg = PostgresError::of(&err).expect("a PostgresError");
    assert_eq!(pg.code(), Some("42P01"), "{err}");
    assert!(!pg.is_connection());

    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let sink = PostgresSink::new(dsn.clone(), t).value_columns(["a", "b"]);
    stream! { ctx;
        queue_stream(vec![vec![(1i64, 2i64)]]).write_to(sink);
    };
    ctx.start().unwrap();
    let err = ctx.advance(1).unwrap_err();
    assert!(matches!(err, rill::Error::Config(_)), "{err}");
    let _ = ctx.stop();

    // Two sinks of one batch writing the same key: the second waits for the first's
    // commit, which comes after every output, so it times out rather than hangs.
    let t = table(&mut c, "locked");
    let sink = || {
        PostgresSink::new(dsn.clone(), t.clone())
            .create_table(true)
            .lock_timeout(Duration::from_millis(200))
    };
    let (mut a, mut b) = (sink(), sink());
    a.write(Time(1000), vec![(1i64, 1i64)]).unwrap();
    let err = b.write(Time(1000), vec![(1i64, 2i64)]).unwrap_err();
    assert_eq!(
        PostgresError::of(&err).and_then(|e| e.code()),
        Some("55P03"),
        "{err}"
    );
    a.commit(Time(1000)).unwrap();

    let mut source = rill::source::PostgresTable::new(
        "host=127.0.0.1 port=1 user=postgres connect_timeout=5",
        "t",
        "id",
        PostgresTableOptions::new(),
    );
    let err = source.start().unwrap_err();
    assert!(
        PostgresError::of(&err).is_some_and(|e| e.is_connection()),
        "{err}"
    );
    drop_tables(&mut c, &[&t]);
}

/// Rows per second of the sink (100,000 `(String, i64)` rows in one batch: first load,
/// exact replay, updating replay) and of the source (the same rows read back).
#[test]
fn throughput_of_the_sink_and_the_source() {
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let t = table(&mut c, "speed");
    const N: usize = 100_000;
    let rows = |shift: i64| -> Vec<(String, i64)> {
        (0..N as i64)
            .map(|i| (format!("key{i:06}"), i + shift))
            .collect()
    };
    let mut sink = PostgresSink::new(dsn.clone(), t.clone()).create_table(true);
    let mut rate = |what: &str, time: u64, batch: Vec<(String, i64)>| {
        let start = Instant::now();
        sink.write(Time(time), batch).unwrap();
        sink.commit(Time(time)).unwrap();
        let s = start.elapsed().as_secs_f64();
        eprintln!(
            "PostgresSink {what}: {N} rows in {s:.3} s, {:.0} rows/s",
            N as f64 / s
        );
    };
    rate("first load", 1000, rows(0));
    rate("exact replay", 1000, rows(0));
    rate("updating replay", 2000, rows(1));
    let n: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM {t} WHERE v = substr(k, 4)::bigint + 1"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, N as i64);

    c.batch_execute(&format!("ALTER TABLE {t} ADD COLUMN id bigserial"))
        .unwrap();
    for (name, typed) in [("text rows", false), ("typed rows", true)] {
        let start = Instant::now();
        let mut read = 0;
        if typed {
            let options = PostgresTableOptions::new()
                .max_rows_per_batch(N)
                .rows(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
            let mut source = rill::source::PostgresTable::new(&dsn, &t, "id", options);
            source.start().unwrap();
            read += source.cut(Time(1000)).unwrap().len();
        } else {
            let options = PostgresTableOptions::new().max_rows_per_batch(N);
            let mut source = rill::source::PostgresTable::new(&dsn, &t, "id", options);
            source.start().unwrap();
            read += source.cut(Time(1000)).unwrap().len();
        }
        let s = start.elapsed().as_secs_f64();
        assert_eq!(read, N);
        eprintln!(
            "postgres_table, {name}: {N} rows in {s:.3} s, {:.0} rows/s",
            N as f64 / s
        );
    }
    drop_tables(&mut c, &[&t]);
}

/// The README's PostgreSQL example, as quoted there.
fn word_totals(ctx: &StreamingContext, dsn: &str, lines: &str, totals: &str) {
    // Every new row of `lines` (id bigserial, line text), once, even across restarts.
    let options = PostgresTableOptions::new().rows(|row| row.get::<_, String>("line"));
    // word text PRIMARY KEY, total bigint, batch_ms bigint: one transaction per batch.
    let sink = PostgresSink::new(dsn, totals)
        .key_column("word")
        .value_columns(["total"])
        .batch_time_column("batch_ms")
        .create_table(true);
    stream! { ctx;
        postgres_table(dsn, lines, "id", options)
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
            .write_to(sink);
    };
}

#[test]
fn the_readme_example_runs_as_quoted() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let this = std::fs::read_to_string(format!("{root}/tests/postgres.rs")).unwrap();
    let start = this.find("fn word_totals(").unwrap();
    let end = start + this[start..].find("\n}\n").unwrap() + 3;
    assert!(
        readme.contains(&this[start..end]),
        "README.md must quote fn word_totals of tests/postgres.rs as it stands"
    );
    let Some(dsn) = pg_dsn() else { return };
    let mut c = client(&dsn);
    let src = table(&mut c, "readme_src");
    let out = table(&mut c, "readme_out");
    lines_table(&mut c, &src);
    insert_lines(&mut c, &src, &lines(0, 12));
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    word_totals(&ctx, &dsn, &src, &out);
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    ctx.stop().unwrap();
    let expected = word_counts(&mut c, &src);
    let got: Vec<(String, i64)> = c
        .query(&format!("SELECT word, total FROM {out} ORDER BY word"), &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(got, expected);
    drop_tables(&mut c, &[&src, &out]);
}
