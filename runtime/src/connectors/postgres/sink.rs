//! [`PostgresSink`]: upserts each batch's keyed records, one transaction per batch.

use super::{Column, PgColumns, connect, is_connection_error, pg_error};
use crate::sinks::Sink;
use crate::{Error, Result, Time};
use postgres::types::ToSql;
use postgres::{Client, Statement};
use std::hash::Hash;
use std::time::Duration;

/// Rows per `INSERT ... SELECT FROM UNNEST` statement unless
/// [`chunk_rows`](PostgresSink::chunk_rows) says otherwise.
const DEFAULT_CHUNK_ROWS: usize = 5000;

/// How long a statement waits for a row lock unless
/// [`lock_timeout`](PostgresSink::lock_timeout) says otherwise.
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A [`Sink`] of keyed records `(K, V)` that upserts them into a PostgreSQL table:
/// `write_to(PostgresSink::new(dsn, "totals"))` in `stream!`.
///
/// Each batch is one transaction: its records, deduplicated by key (the last record of
/// a key wins, in partition order, as the batch holds them), are inserted with
/// `INSERT INTO table (k, v, ...) SELECT * FROM UNNEST($1::text[], $2::bigint[], ...)
/// ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, ...`, in chunks of
/// [`chunk_rows`](Self::chunk_rows) rows (5000 by default). The transaction is opened
/// and filled in [`write`](Sink::write) and committed in [`commit`](Sink::commit), once
/// every output of the batch succeeded, so a batch that fails elsewhere leaves nothing.
///
/// Keys and values are [`PgColumns`]: a scalar (`i64`, `i32`, `u64`, `f64`, `String`,
/// `bool`, `Option` of them, ...) is one column, a tuple of scalars one column per
/// element, named in order by [`key_columns`](Self::key_columns) and
/// [`value_columns`](Self::value_columns) (`k` and `v`, `v2`, ... unless named).
///
/// The transaction holds the batch's rows locked from the write to the commit: two
/// sinks of one context upserting the same keys of one table would wait for each
/// other, which [`lock_timeout`](Self::lock_timeout) (30 s) turns into an error. Give
/// each sink its own table, or its own keys.
///
/// **Guarantee.** After a crash the recovered context writes the batch in flight again
/// (at least once, see [`Sink`]). Since the batch is recomputed with the same records,
/// and every row is an upsert by key, the table ends exactly as an uninterrupted run's;
/// the rows of a replayed batch are written twice on the way (a reader may see the
/// first write before the second). The deduplication keeps a key's last record in
/// partition order, which the replay reproduces when the recomputed batch holds its
/// records in the same order (a replayable source read without a shuffle does; after a
/// `reduce_by_key` or `update_state_by_key` every key is there once anyway). With
/// [`batch_time_column`](Self::batch_time_column) every row also records the time (ms)
/// of the batch that wrote it last.
///
/// **Connections.** The sink connects at its first write (creating the table if
/// [`create_table`](Self::create_table) is on), keeps the connection, and when the
/// connection dropped reconnects once and runs the batch's transaction again before
/// failing with an [`Error::Io`] holding a [`PostgresError`](super::PostgresError).
/// The table needs a primary key or unique constraint on the key columns.
///
/// ```no_run
/// use rill_runtime::connectors::postgres::PostgresSink;
///
/// // word TEXT PRIMARY KEY, total BIGINT, batch_ms BIGINT
/// let sink = PostgresSink::new("host=127.0.0.1 user=postgres dbname=postgres", "totals")
///     .key_column("word")
///     .value_columns(["total"])
///     .batch_time_column("batch_ms")
///     .create_table(true);
/// // In `stream!`: counts.write_to(sink), with counts a stream of (String, u64).
/// ```
pub struct PostgresSink {
    dsn: String,
    table: String,
    key_columns: Option<Vec<String>>,
    value_columns: Option<Vec<String>>,
    batch_time_column: Option<String>,
    create_table: bool,
    chunk_rows: usize,
    lock_timeout: Duration,
    conn: Option<Conn>,
    /// The batch written and not yet committed.
    pending: Option<Pending>,
}

/// An open connection and the upsert prepared on it.
struct Conn {
    client: Client,
    /// The SQL types (keys, then values) the statement was prepared for.
    types: (Vec<&'static str>, Vec<&'static str>),
    upsert: Statement,
    /// Whether a batch's transaction is open on the connection.
    in_transaction: bool,
}

/// A step of a batch's transaction on a connection; a failure says what it was doing.
type Step = fn(&mut Conn, &Pending, &str) -> std::result::Result<(), (String, postgres::Error)>;

/// A batch written and not committed: what a reconnect writes again.
struct Pending {
    time: Time,
    /// The SQL types of the key and of the value columns.
    types: (Vec<&'static str>, Vec<&'static str>),
    chunks: Vec<Vec<Column>>,
}

impl PostgresSink {
    /// A sink writing to `table` of the database at `dsn` (a libpq key-value string or
    /// a `postgresql://` URL). Nothing connects before the first batch.
    pub fn new(dsn: impl Into<String>, table: impl Into<String>) -> Self {
        PostgresSink {
            dsn: dsn.into(),
            table: table.into(),
            key_columns: None,
            value_columns: None,
            batch_time_column: None,
            create_table: false,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            conn: None,
            pending: None,
        }
    }

    /// The column of a one-column key (`k` by default).
    pub fn key_column(self, name: impl Into<String>) -> Self {
        self.key_columns([name])
    }

    /// The columns of the key, one per element of a tuple key (`k`, `k2`, ... by
    /// default).
    pub fn key_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.key_columns = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The columns of the value, one per element of a tuple value (`v`, `v2`, ... by
    /// default); none for a value of `()` (a table of keys only).
    pub fn value_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.value_columns = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Also writes the batch time in milliseconds (`bigint`) into `name`, so a reader
    /// sees which batch wrote each row last.
    pub fn batch_time_column(mut self, name: impl Into<String>) -> Self {
        self.batch_time_column = Some(name.into());
        self
    }

    /// Creates the table at the first connection if it does not exist (`CREATE TABLE IF
    /// NOT EXISTS`, the key columns its primary key); off by default.
    pub fn create_table(mut self, create: bool) -> Self {
        self.create_table = create;
        self
    }

    /// Rows per upsert statement within the batch's transaction (5000 by default; at
    /// least 1).
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// How long an upsert waits for a row that another transaction holds locked before
    /// the batch fails (30 s by default; zero waits for ever). The batch's transaction
    /// holds its rows locked from [`write`](Sink::write) to [`commit`](Sink::commit), so
    /// two sinks of one context writing the same keys of one table would wait for each
    /// other: the timeout turns that into an error instead of a hang.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The column names for `types`, named by the builder or defaulted.
    fn names(given: &Option<Vec<String>>, types: usize, first: &str) -> Vec<String> {
        match given {
            Some(names) => names.clone(),
            None => (0..types)
                .map(|i| match i {
                    0 => first.to_string(),
                    i => format!("{first}{}", i + 1),
                })
                .collect(),
        }
    }

    /// Checks the column names against the types; returns (key names, value names).
    fn columns(&self, keys: &[&str], values: &[&str]) -> Result<(Vec<String>, Vec<String>)> {
        let k = Self::names(&self.key_columns, keys.len(), "k");
        let v = Self::names(&self.value_columns, values.len(), "v");
        for (what, names, types) in [("key", &k, keys), ("value", &v, values)] {
            if names.len() != types.len() {
                return Err(Error::Config(format!(
                    "PostgresSink into {}: {} {what} column(s) named ({}) for a {what} of {} column(s) ({})",
                    self.table,
                    names.len(),
                    names.join(", "),
                    types.len(),
                    types.join(", ")
                )));
            }
        }
        Ok((k, v))
    }

    /// `CREATE TABLE IF NOT EXISTS` for the key and value columns.
    fn create_sql(&self, keys: &[&str], values: &[&str]) -> Result<String> {
        let (k, v) = self.columns(keys, values)?;
        let mut cols: Vec<String> = k
            .iter()
            .zip(keys)
            .map(|(n, t)| format!("{n} {t} NOT NULL"))
            .collect();
        cols.extend(v.iter().zip(values).map(|(n, t)| format!("{n} {t}")));
        if let Some(b) = &self.batch_time_column {
            cols.push(format!("{b} bigint"));
        }
        Ok(format!(
            "CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))",
            self.table,
            cols.join(", "),
            k.join(", ")
        ))
    }

    /// The upsert of one chunk: one array parameter per column, then the batch time.
    fn upsert_sql(&self, keys: &[&str], values: &[&str]) -> Result<String> {
        let (k, v) = self.columns(keys, values)?;
        let arrays: Vec<String> = keys
            .iter()
            .chain(values)
            .enumerate()
            .map(|(i, t)| format!("${}::{t}[]", i + 1))
            .collect();
        let mut targets: Vec<&str> = k.iter().chain(&v).map(String::as_str).collect();
        let mut updated: Vec<&str> = v.iter().map(String::as_str).collect();
        let mut select = "*".to_string();
        if let Some(b) = &self.batch_time_column {
            targets.push(b);
            updated.push(b);
            select = format!("*, ${}::bigint", arrays.len() + 1);
        }
        let action = if updated.is_empty() {
            "NOTHING".to_string()
        } else {
            let sets: Vec<String> = updated
                .iter()
                .map(|c| format!("{c} = EXCLUDED.{c}"))
                .collect();
            format!("UPDATE SET {}", sets.join(", "))
        };
        Ok(format!(
            "INSERT INTO {} ({}) SELECT {select} FROM UNNEST({}) ON CONFLICT ({}) DO {action}",
            self.table,
            targets.join(", "),
            arrays.join(", "),
            k.join(", ")
        ))
    }

    /// The connection, opened (the table created, the upsert prepared) if there is none
    /// or it is closed.
    fn conn(&mut self, keys: &[&'static str], values: &[&'static str]) -> Result<&mut Conn> {
        let types = (keys.to_vec(), values.to_vec());
        let usable = matches!(&self.conn, Some(c) if !c.client.is_closed() && c.types == types);
        if !usable {
            self.conn = None;
            let upsert_sql = self.upsert_sql(keys, values)?;
            let mut client = connect(&self.dsn)?;
            let set = format!("SET lock_timeout = {}", self.lock_timeout.as_millis());
            client
                .batch_execute(&set)
                .map_err(|e| pg_error("setting lock_timeout", e))?;
            if self.create_table {
                let sql = self.create_sql(keys, values)?;
                client
                    .batch_execute(&sql)
                    .map_err(|e| pg_error(format!("creating {}", self.table), e))?;
            }
            let upsert = client
                .prepare(&upsert_sql)
                .map_err(|e| pg_error(format!("preparing the upsert into {}", self.table), e))?;
            self.conn = Some(Conn {
                client,
                types,
                upsert,
                in_transaction: false,
            });
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Runs `step` on the connection; when the connection failed, reconnects once and
    /// runs `redo` (the whole transaction again) instead.
    fn with_retry(&mut self, step: Step, redo: Step) -> Result<()> {
        let pending = self.pending.take().expect("a batch is pending");
        let table = self.table.clone();
        let run = |sink: &mut Self, f: Step| -> Result<()> {
            let conn = sink.conn(&pending.types.0, &pending.types.1)?;
            f(conn, &pending, &table).map_err(|(action, e)| {
                if !is_connection_error(&e) {
                    // The transaction is aborted: end it so the connection stays usable.
                    let _ = conn.client.batch_execute("ROLLBACK");
                    conn.in_transaction = false;
                }
                pg_error(action, e)
            })
        };
        let first = run(self, step);
        let result = match first {
            Err(e) if super::PostgresError::of(&e).is_some_and(|p| p.is_connection()) => {
                tracing::warn!(table = %self.table, error = %e, "PostgreSQL connection failed; reconnecting once");
                self.conn = None;
                run(self, redo)
            }
            other => other,
        };
        self.pending = Some(pending);
        result
    }

    /// Commits the batch at `time` that [`write`](Sink::write) left open, as
    /// [`Sink::commit`] does (callable without naming the record type). When the
    /// connection dropped, runs the batch's transaction again on a new one and commits
    /// that. Nothing happens for any other time.
    pub fn commit(&mut self, time: Time) -> Result<()> {
        if self.pending.as_ref().is_none_or(|p| p.time != time) {
            return Ok(());
        }
        let result = self.with_retry(commit, commit);
        self.pending = None;
        result
    }

    /// Rolls back a transaction left open by a batch that was never committed.
    fn abandon_pending(&mut self) {
        if self.pending.take().is_some()
            && let Some(conn) = &mut self.conn
            && conn.in_transaction
        {
            if conn.client.batch_execute("ROLLBACK").is_err() {
                self.conn = None;
            } else {
                conn.in_transaction = false;
            }
        }
    }
}

/// The batch's records, deduplicated by key (the last record of a key wins), in the
/// order of their last records.
fn dedup<K: Hash + Eq, V>(records: Vec<(K, V)>) -> Vec<(K, V)> {
    let mut keep = vec![false; records.len()];
    {
        let mut seen =
            rustc_hash::FxHashSet::with_capacity_and_hasher(records.len(), Default::default());
        for (i, (k, _)) in records.iter().enumerate().rev() {
            keep[i] = seen.insert(k);
        }
    }
    if keep.iter().all(|k| *k) {
        return records;
    }
    records
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}

/// The rows in chunks of `chunk_rows`, each as its columns.
fn chunks<K: PgColumns, V: PgColumns>(
    rows: Vec<(K, V)>,
    chunk_rows: usize,
) -> Result<Vec<Vec<Column>>> {
    let mut out: Vec<Vec<Column>> = Vec::with_capacity(rows.len().div_ceil(chunk_rows));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let (mut kb, mut vb) = (K::Buffers::default(), V::Buffers::default());
        for (k, v) in rows.by_ref().take(chunk_rows) {
            k.append(&mut kb)?;
            v.append(&mut vb)?;
        }
        let mut columns = Vec::new();
        K::finish(kb, &mut columns);
        V::finish(vb, &mut columns);
        out.push(columns);
    }
    Ok(out)
}

/// `BEGIN`, then the upsert of every chunk of the batch.
fn upsert(
    conn: &mut Conn,
    pending: &Pending,
    table: &str,
) -> std::result::Result<(), (String, postgres::Error)> {
    if pending.chunks.is_empty() {
        return Ok(());
    }
    let time = pending.time.millis() as i64;
    conn.client
        .batch_execute("BEGIN")
        .map_err(|e| ("beginning a transaction".to_string(), e))?;
    conn.in_transaction = true;
    for chunk in &pending.chunks {
        let mut params: Vec<&(dyn ToSql + Sync)> =
            chunk.iter().map(|c| &**c as &(dyn ToSql + Sync)).collect();
        params.push(&time);
        // Without a batch time column the statement has one parameter fewer.
        let n = conn.upsert.params().len();
        conn.client
            .execute(&conn.upsert, &params[..n])
            .map_err(|e| (format!("upserting into {table}"), e))?;
    }
    Ok(())
}

/// `COMMIT` of the batch's transaction; on a connection where it is not open (a new
/// one, the old having dropped), the whole transaction again first.
fn commit(
    conn: &mut Conn,
    pending: &Pending,
    table: &str,
) -> std::result::Result<(), (String, postgres::Error)> {
    if !conn.in_transaction {
        upsert(conn, pending, table)?;
        if !conn.in_transaction {
            // An empty batch: nothing to commit.
            return Ok(());
        }
    }
    conn.in_transaction = false;
    conn.client.batch_execute("COMMIT").map_err(|e| {
        let time = pending.time.millis();
        (format!("committing the batch at {time} ms into {table}"), e)
    })
}

impl<K, V> Sink<(K, V)> for PostgresSink
where
    K: PgColumns + Hash + Eq,
    V: PgColumns,
{
    /// Deduplicates the batch by key and upserts it in a transaction left open for
    /// [`commit`](Sink::commit).
    fn write(&mut self, time: Time, records: Vec<(K, V)>) -> Result<()> {
        self.abandon_pending();
        let (keys, values) = (K::sql_types(), V::sql_types());
        self.columns(&keys, &values)?;
        let rows = dedup(records);
        self.pending = Some(Pending {
            time,
            chunks: chunks(rows, self.chunk_rows)?,
            types: (keys, values),
        });
        self.with_retry(upsert, upsert)
    }

    /// Commits the batch's transaction: [`PostgresSink::commit`].
    fn commit(&mut self, time: Time) -> Result<()> {
        PostgresSink::commit(self, time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_record_of_a_key_wins() {
        let got = dedup(vec![("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)]);
        assert_eq!(got, [("a", 3), ("c", 4), ("b", 5)]);
    }

    #[test]
    fn statements_name_and_cast_every_column() {
        let sink = PostgresSink::new("", "t")
            .key_column("word")
            .value_columns(["n", "avg"])
            .batch_time_column("batch_ms");
        let keys = ["text"];
        let values = ["bigint", "double precision"];
        assert_eq!(
            sink.upsert_sql(&keys, &values).unwrap(),
            "INSERT INTO t (word, n, avg, batch_ms) SELECT *, $4::bigint FROM \
             UNNEST($1::text[], $2::bigint[], $3::double precision[]) ON CONFLICT (word) \
             DO UPDATE SET n = EXCLUDED.n, avg = EXCLUDED.avg, batch_ms = EXCLUDED.batch_ms"
        );
        assert_eq!(
            sink.create_sql(&keys, &values).unwrap(),
            "CREATE TABLE IF NOT EXISTS t (word text NOT NULL, n bigint, \
             avg double precision, batch_ms bigint, PRIMARY KEY (word))"
        );
        let plain = PostgresSink::new("", "t");
        assert_eq!(
            plain.upsert_sql(&["bigint", "integer"], &[]).unwrap(),
            "INSERT INTO t (k, k2) SELECT * FROM UNNEST($1::bigint[], $2::integer[]) \
             ON CONFLICT (k, k2) DO NOTHING"
        );
        assert!(matches!(
            sink.upsert_sql(&keys, &["bigint"]),
            Err(Error::Config(_))
        ));
    }
}
