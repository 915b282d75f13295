//! [`postgres_table`]: the rows of a table by an increasing column, as a
//! [`ReplayableSource`].

use super::{connect, is_connection_error, pg_error, result_name};
use crate::sources::{ReplayableSource, ReplayableStream, replayable_stream};
use crate::{Error, Result, Time};
use postgres::{Client, Row, SimpleQueryMessage};
use std::sync::Arc;

/// Rows per batch unless [`max_rows_per_batch`](PostgresTableOptions::max_rows_per_batch)
/// says otherwise.
const DEFAULT_MAX_ROWS: usize = 10_000;

/// How the rows of a table become records: text columns, or the user's function.
enum Rows<T> {
    /// Every column in PostgreSQL's text form (`NULL` as `None`), then `f`.
    Text(fn(Vec<Option<String>>) -> T),
    /// The user's function of the row.
    Typed(Arc<dyn Fn(&Row) -> T + Send + Sync>),
}

impl<T> Clone for Rows<T> {
    fn clone(&self) -> Self {
        match self {
            Rows::Text(f) => Rows::Text(*f),
            Rows::Typed(f) => Rows::Typed(f.clone()),
        }
    }
}

/// Options of [`postgres_table`]: rows per batch, where to start, and what a record is.
///
/// By default a record is the row as `Vec<Option<String>>`: every column in
/// PostgreSQL's text form (`42`, `t`, `2024-05-01 10:00:00+00`), in the table's column
/// order, `None` for `NULL`. [`rows`](Self::rows) makes it whatever a function of the
/// [`postgres::Row`] returns instead:
///
/// ```
/// use rill_runtime::connectors::postgres::PostgresTableOptions;
///
/// let text = PostgresTableOptions::new().max_rows_per_batch(1000);
/// let typed = PostgresTableOptions::new()
///     .start_after(41)
///     .rows(|row| (row.get::<_, i64>("id"), row.get::<_, String>("word")));
/// ```
pub struct PostgresTableOptions<T = Vec<Option<String>>> {
    max_rows_per_batch: usize,
    start_after: Option<i64>,
    rows: Rows<T>,
}

impl PostgresTableOptions {
    /// At most 10,000 rows per batch, from the table's first row, as text columns.
    pub fn new() -> Self {
        PostgresTableOptions {
            max_rows_per_batch: DEFAULT_MAX_ROWS,
            start_after: None,
            rows: Rows::Text(|row| row),
        }
    }
}

impl Default for PostgresTableOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PostgresTableOptions<T> {
    /// At most `rows` rows per batch (10,000 by default; at least 1): a backlog is read
    /// over several batches. Rows sharing the column's value are never split between
    /// batches, so a batch may hold more when the column repeats.
    pub fn max_rows_per_batch(mut self, rows: usize) -> Self {
        self.max_rows_per_batch = rows.max(1);
        self
    }

    /// Starts after the rows whose column is at most `value` (by default every row is
    /// read, from the smallest value on). A checkpoint's position overrides it.
    pub fn start_after(mut self, value: i64) -> Self {
        self.start_after = Some(value);
        self
    }

    /// Makes each record `f(&row)` (the row holds every column of the table, `SELECT
    /// *`). A panic in `f` (as [`Row::get`] of a column of another type panics) fails the
    /// batch with an error instead of taking the thread down; [`Row::try_get`] with a
    /// default avoids it.
    pub fn rows<U>(self, f: impl Fn(&Row) -> U + Send + Sync + 'static) -> PostgresTableOptions<U> {
        PostgresTableOptions {
            max_rows_per_batch: self.max_rows_per_batch,
            start_after: self.start_after,
            rows: Rows::Typed(Arc::new(f)),
        }
    }
}

/// Polls `table` for rows whose `column` is greater than the last one taken (Kafka
/// Connect's JDBC source in "incrementing" mode): `let rows = postgres_table(dsn,
/// "events", "id", PostgresTableOptions::new());` in `stream!`.
///
/// Every batch takes the rows `column > position ORDER BY column LIMIT
/// max_rows_per_batch` and moves the position to the last value taken. The source is a
/// [`ReplayableSource`] whose position is that value: it is checkpointed, and after a
/// crash the logged batches are read again as `position_before < column <=
/// position_after`, so each row is counted once across a restart with
/// `StreamingContext::get_or_create`. `column` must be an integer column (`bigint`,
/// `integer`, `smallint`; `serial` and identity columns are) and should be indexed.
///
/// Records are `Vec<Option<String>>` (text columns) unless the options'
/// [`rows`](PostgresTableOptions::rows) function makes them something else.
///
/// **Caveat (as for the JDBC incrementing mode).** Each poll reads only values above
/// the last one taken, so a row committed *after* a row with a higher value was read is
/// missed. With a sequence (`bigserial`, identity) two transactions can commit out of
/// order, so use a sequence-assigned column with a single writer (or writers that take
/// a lock before drawing the value and hold it to their commit), or a column assigned
/// in commit order. Rows updated in place are not read again. A row committed late
/// into a range already read also makes a replay of that range after a crash read one
/// row more than the first time.
pub fn postgres_table<T: Send + 'static>(
    dsn: impl Into<String>,
    table: impl Into<String>,
    column: impl Into<String>,
    options: PostgresTableOptions<T>,
) -> ReplayableStream<T, PostgresTable<T>> {
    replayable_stream(PostgresTable::new(dsn, table, column, options))
}

/// The [`ReplayableSource`] of [`postgres_table`]: a table read by an increasing column.
pub struct PostgresTable<T> {
    dsn: String,
    table: String,
    column: String,
    /// The name the column has in a result row.
    result_column: String,
    max_rows: usize,
    rows: Rows<T>,
    client: Option<Client>,
    /// The column's value of the last row taken (`None`: no row yet).
    position: Option<i64>,
}

/// The rows read, with their column's value.
type Read<T> = Vec<(i64, T)>;

impl<T: Send + 'static> PostgresTable<T> {
    /// The source of `table` at `dsn` ordered by `column`; nothing connects before the
    /// context starts.
    pub fn new(
        dsn: impl Into<String>,
        table: impl Into<String>,
        column: impl Into<String>,
        options: PostgresTableOptions<T>,
    ) -> Self {
        let column = column.into();
        PostgresTable {
            dsn: dsn.into(),
            table: table.into(),
            result_column: result_name(&column),
            column,
            max_rows: options.max_rows_per_batch,
            rows: options.rows,
            client: None,
            position: options.start_after,
        }
    }

    /// `SELECT *` of the rows meeting `condition` (on the column, written `{c}`), by the
    /// column, at most `limit`.
    fn select(&self, condition: &str, limit: Option<usize>) -> String {
        let c = &self.column;
        let mut sql = format!(
            "SELECT * FROM {} WHERE {} ORDER BY {c}",
            self.table,
            condition.replace("{c}", c)
        );
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        sql
    }

    /// The condition `after < column <= upto`, either bound absent when `None`.
    fn range(after: Option<i64>, upto: Option<i64>) -> String {
        let mut conditions = vec!["{c} IS NOT NULL".to_string()];
        conditions.extend(after.map(|a| format!("{{c}} > {a}")));
        conditions.extend(upto.map(|u| format!("{{c}} <= {u}")));
        conditions.join(" AND ")
    }

    /// The rows `sql` selects, as records with their column's value; reconnects once if
    /// the connection failed.
    fn query(&mut self, sql: &str) -> Result<Read<T>> {
        match self.query_once(sql) {
            Err((e, true)) => {
                tracing::warn!(table = %self.table, error = %e, "PostgreSQL connection failed; reconnecting once");
                self.client = None;
                self.query_once(sql).map_err(|(e, _)| e)
            }
            other => other.map_err(|(e, _)| e),
        }
    }

    /// One attempt of [`query`](Self::query); an error says whether it is a failure of
    /// the connection (worth a retry).
    fn query_once(&mut self, sql: &str) -> std::result::Result<Read<T>, (Error, bool)> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(connect(&self.dsn).map_err(|e| (e, true))?);
        }
        let client = self.client.as_mut().expect("connected above");
        let table = &self.table;
        let failed = |e: postgres::Error| {
            let retry = is_connection_error(&e);
            (pg_error(format!("reading {table}"), e), retry)
        };
        let not_integer = || {
            let e = Error::Config(format!(
                "postgres_table {table}: column {} is not an integer column of the table (or is NULL)",
                self.column
            ));
            (e, false)
        };
        let mut out = Vec::new();
        match &self.rows {
            Rows::Text(f) => {
                for m in client.simple_query(sql).map_err(failed)? {
                    if let SimpleQueryMessage::Row(row) = m {
                        let pos = row
                            .try_get(self.result_column.as_str())
                            .ok()
                            .flatten()
                            .and_then(|v| v.parse::<i64>().ok())
                            .ok_or_else(not_integer)?;
                        let values = (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect();
                        out.push((pos, f(values)));
                    }
                }
            }
            Rows::Typed(f) => {
                let rows = client.query(sql, &[]).map_err(failed)?;
                out.reserve(rows.len());
                for row in &rows {
                    let pos = position_of(row, &self.result_column).ok_or_else(not_integer)?;
                    let record = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(row)))
                        .map_err(|p| {
                            let e = Error::Pipeline(format!(
                                "the rows function of postgres_table {table} panicked: {}",
                                crate::error::panic_message(p.as_ref())
                            ));
                            (e, false)
                        })?;
                    out.push((pos, record));
                }
            }
        }
        Ok(out)
    }
}

/// The value of `column` in `row`, of any integer type.
fn position_of(row: &Row, column: &str) -> Option<i64> {
    row.try_get::<_, i64>(column)
        .or_else(|_| row.try_get::<_, i32>(column).map(i64::from))
        .or_else(|_| row.try_get::<_, i16>(column).map(i64::from))
        .ok()
}

impl<T: Send + 'static> ReplayableSource<T> for PostgresTable<T> {
    /// The value of the column in the last row taken (`None` before the first row).
    type Position = Option<i64>;

    fn describe(&self) -> String {
        format!("postgres_table {} by {}", self.table, self.column)
    }

    /// Connects, so a server that is not there fails `start()`.
    fn start(&mut self) -> Result<()> {
        if self.client.is_none() {
            self.client = Some(connect(&self.dsn)?);
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.client = None;
    }

    fn position(&self) -> Option<i64> {
        self.position
    }

    fn seek(&mut self, to: &Option<i64>) -> Result<()> {
        self.position = *to;
        Ok(())
    }

    /// The next rows after the position, at most `max_rows_per_batch` of them (plus the
    /// other rows sharing the last one's value).
    fn cut(&mut self, _time: Time) -> Result<Vec<T>> {
        let sql = self.select(&Self::range(self.position, None), Some(self.max_rows));
        let mut rows = self.query(&sql)?;
        if rows.len() >= self.max_rows
            && let Some(&(last, _)) = rows.last()
        {
            // The limit may have cut between rows of equal value: take all of them, so
            // the batch is exactly the range (position, last], as `read` reads it.
            let keep = rows.iter().take_while(|(p, _)| *p < last).count();
            rows.truncate(keep);
            let sql = self.select(&format!("{{c}} = {last}"), None);
            rows.extend(self.query(&sql)?);
        }
        if let Some(&(last, _)) = rows.last() {
            self.position = Some(last);
        }
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    /// The rows of `(from, to]` again.
    fn read(&mut self, from: &Option<i64>, to: &Option<i64>) -> Result<Vec<T>> {
        let Some(to) = *to else {
            return Ok(Vec::new());
        };
        if from.is_some_and(|f| f >= to) {
            return Ok(Vec::new());
        }
        let sql = self.select(&Self::range(*from, Some(to)), None);
        Ok(self.query(&sql)?.into_iter().map(|(_, r)| r).collect())
    }
}
