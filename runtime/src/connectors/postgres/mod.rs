//! PostgreSQL (feature `postgres`): [`PostgresSink`] upserts each batch's keyed records
//! into a table, one transaction per batch; [`postgres_table`] reads a table by an
//! increasing column, as a [`ReplayableSource`](crate::sources::ReplayableSource).
//!
//! Both use the synchronous [`postgres`] client without TLS (connect on loopback, or
//! through a tunnel). The DSN is a libpq key-value string
//! (`host=127.0.0.1 port=5432 user=app dbname=app`) or a `postgresql://` URL.
//!
//! Table and column names are put into the SQL as written, so they may be
//! schema-qualified (`app.totals`) or quoted (`"Totals"`); they come from the program,
//! never from data.
//!
//! **Errors.** A failure of the server or of the connection is an
//! [`Error::Io`] whose source holds a [`PostgresError`]
//! ([`PostgresError::of`] finds it), with the SQLSTATE code when the server sent one.
//! Both halves reconnect once when the connection dropped before they fail; nothing here
//! panics on a server's answer.

mod sink;
mod source;

pub use postgres::Row;
pub use sink::PostgresSink;
pub use source::{PostgresTable, PostgresTableOptions, postgres_table};

use crate::Error;
use postgres::types::ToSql;
use postgres::{Client, NoTls};
use std::fmt;

/// A failure of the PostgreSQL server or of the connection to it, as the source of the
/// [`Error::Io`] the connectors return.
///
/// ```
/// use rill_runtime::connectors::postgres::{PostgresError, PostgresSink};
/// use rill_runtime::sinks::Sink;
/// use rill_runtime::Time;
///
/// // Nothing listens on port 1: connecting fails, with a typed error.
/// let mut sink = PostgresSink::new("host=127.0.0.1 port=1 user=postgres connect_timeout=5", "t");
/// let err = sink.write(Time(1000), vec![(1i64, 2i64)]).unwrap_err();
/// let pg = PostgresError::of(&err).expect("a PostgreSQL error");
/// assert!(pg.is_connection());
/// assert_eq!(pg.code(), None);
/// ```
#[derive(Debug)]
pub struct PostgresError {
    action: String,
    error: postgres::Error,
}

impl PostgresError {
    /// The [`PostgresError`] inside `error`, if it is one the connectors returned.
    pub fn of(error: &Error) -> Option<&PostgresError> {
        match error {
            Error::Io { source, .. } => source.get_ref()?.downcast_ref::<PostgresError>(),
            _ => None,
        }
    }

    /// What the connector was doing (`connecting`, `upserting into totals`, ...).
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The SQLSTATE code the server sent (`23505` for a unique violation, `42P01` for a
    /// missing table, ...); `None` for a failure of the connection itself.
    pub fn code(&self) -> Option<&str> {
        self.error.code().map(|c| c.code())
    }

    /// Whether the connection failed or was closed (connecting, network, server shut
    /// down or terminated the session), rather than a statement being refused.
    pub fn is_connection(&self) -> bool {
        is_connection_error(&self.error)
    }

    /// The client's error.
    pub fn postgres_error(&self) -> &postgres::Error {
        &self.error
    }
}

impl fmt::Display for PostgresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgreSQL, {}: {}", self.action, self.error)
    }
}

impl std::error::Error for PostgresError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Whether `e` is a failure of the connection (worth one reconnect) rather than of a
/// statement: the client saw the connection closed or failing, or the server ended the
/// session (SQLSTATE class 08, or 57P01-57P03: shut down, terminated, cannot connect).
fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }
        // No SQLSTATE: not the server's answer to a statement, so the transport failed
        // (a parameter that cannot be encoded fails the same way on the retry).
        None => e.as_db_error().is_none(),
    }
}

/// `e` as the runtime's error, with what was being done.
fn pg_error(action: impl Into<String>, e: postgres::Error) -> Error {
    let action = action.into();
    let kind = if is_connection_error(&e) {
        std::io::ErrorKind::ConnectionAborted
    } else {
        std::io::ErrorKind::Other
    };
    Error::io(
        format!("PostgreSQL, {action}"),
        std::io::Error::new(kind, PostgresError { action, error: e }),
    )
}

/// Opens a connection without TLS.
fn connect(dsn: &str) -> crate::Result<Client> {
    Client::connect(dsn, NoTls).map_err(|e| pg_error("connecting", e))
}

/// The name PostgreSQL gives a result column selected as `column`: unquoted names fold
/// to lower case, a quoted name is taken as written.
fn result_name(column: &str) -> String {
    let c = column.trim();
    match c.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => c.rsplit('.').next().unwrap_or(c).to_lowercase(),
    }
}

/// A Rust type written to one column: its SQL type, and the value the client binds
/// (as the element of an array parameter).
///
/// Implemented for `i16` (`smallint`), `i32` (`integer`), `i64`, `u32`, `u64` (`bigint`;
/// a `u64` above `i64::MAX` fails the batch), `f32` (`real`), `f64` (`double
/// precision`), `bool` (`boolean`), `String` (`text`), `Vec<u8>` (`bytea`), and
/// `Option` of each (`NULL` for `None`). A type of your own maps onto one of these:
///
/// ```
/// use rill_runtime::connectors::postgres::PgScalar;
///
/// struct UserId(u32);
///
/// impl PgScalar for UserId {
///     type Sql = i64;
///     const SQL_TYPE: &'static str = "bigint";
///     fn into_sql(self) -> rill_runtime::Result<i64> {
///         Ok(i64::from(self.0))
///     }
/// }
/// ```
pub trait PgScalar: Send + 'static {
    /// What the client binds; `Vec<Self::Sql>` is the array parameter of a column.
    type Sql: ToSql + Sync + Send + 'static;
    /// The column's SQL type, as `CREATE TABLE` and the array cast write it.
    const SQL_TYPE: &'static str;
    /// The value to bind (an error fails the batch, as a `u64` too large for `bigint`).
    fn into_sql(self) -> crate::Result<Self::Sql>;
}

macro_rules! scalar {
    ($($t:ty => $sql:literal),* $(,)?) => {$(
        impl PgScalar for $t {
            type Sql = $t;
            const SQL_TYPE: &'static str = $sql;
            fn into_sql(self) -> crate::Result<$t> {
                Ok(self)
            }
        }
    )*};
}

scalar!(
    i16 => "smallint",
    i32 => "integer",
    i64 => "bigint",
    f32 => "real",
    f64 => "double precision",
    bool => "boolean",
    String => "text",
    Vec<u8> => "bytea",
);

impl PgScalar for u32 {
    type Sql = i64;
    const SQL_TYPE: &'static str = "bigint";
    fn into_sql(self) -> crate::Result<i64> {
        Ok(i64::from(self))
    }
}

impl PgScalar for u64 {
    type Sql = i64;
    const SQL_TYPE: &'static str = "bigint";
    fn into_sql(self) -> crate::Result<i64> {
        i64::try_from(self).map_err(|_| {
            Error::Pipeline(format!(
                "{self} does not fit a PostgreSQL bigint (at most {})",
                i64::MAX
            ))
        })
    }
}

impl<T: PgScalar> PgScalar for Option<T> {
    type Sql = Option<T::Sql>;
    const SQL_TYPE: &'static str = T::SQL_TYPE;
    fn into_sql(self) -> crate::Result<Option<T::Sql>> {
        self.map(T::into_sql).transpose()
    }
}

/// One column of a chunk of rows: the array bound to one `UNNEST` parameter.
pub type Column = Box<dyn ToSql + Sync + Send>;

/// A key or value written to one or more columns: any [`PgScalar`] (one column), a
/// tuple of up to six of them (one column each, in order), or `()` (no column: a value
/// of `()` makes a table of keys only). Tuples do not nest.
pub trait PgColumns: Send + 'static {
    /// The columns of a chunk of rows being built.
    type Buffers: Default;
    /// The SQL type of each column, in order.
    fn sql_types() -> Vec<&'static str>;
    /// Appends this value's columns to `buffers`.
    fn append(self, buffers: &mut Self::Buffers) -> crate::Result<()>;
    /// The built columns, appended to `out` in order.
    fn finish(buffers: Self::Buffers, out: &mut Vec<Column>);
}

impl<T: PgScalar> PgColumns for T {
    type Buffers = Vec<T::Sql>;
    fn sql_types() -> Vec<&'static str> {
        vec![T::SQL_TYPE]
    }
    fn append(self, buffers: &mut Vec<T::Sql>) -> crate::Result<()> {
        buffers.push(self.into_sql()?);
        Ok(())
    }
    fn finish(buffers: Vec<T::Sql>, out: &mut Vec<Column>) {
        out.push(Box::new(buffers));
    }
}

impl PgColumns for () {
    type Buffers = ();
    fn sql_types() -> Vec<&'static str> {
        Vec::new()
    }
    fn append(self, _: &mut ()) -> crate::Result<()> {
        Ok(())
    }
    fn finish(_: (), _: &mut Vec<Column>) {}
}

macro_rules! tuple {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: PgScalar),+> PgColumns for ($($t,)+) {
            type Buffers = ($(Vec<$t::Sql>,)+);
            fn sql_types() -> Vec<&'static str> {
                vec![$($t::SQL_TYPE),+]
            }
            fn append(self, buffers: &mut Self::Buffers) -> crate::Result<()> {
                $(buffers.$i.push(self.$i.into_sql()?);)+
                Ok(())
            }
            fn finish(buffers: Self::Buffers, out: &mut Vec<Column>) {
                $(out.push(Box::new(buffers.$i));)+
            }
        }
    )*};
}

tuple! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_names_fold_as_postgresql_does() {
        assert_eq!(result_name("Id"), "id");
        assert_eq!(result_name("t.Id"), "id");
        assert_eq!(result_name("\"Id\""), "Id");
        assert_eq!(result_name("\"a\"\"b\""), "a\"b");
    }

    #[test]
    fn columns_of_scalars_and_tuples() {
        assert_eq!(<(String, u64)>::sql_types(), ["text", "bigint"]);
        assert_eq!(<Option<f64>>::sql_types(), ["double precision"]);
        let mut b = Default::default();
        ("a".to_string(), 1u64).append(&mut b).unwrap();
        let mut out = Vec::new();
        <(String, u64)>::finish(b, &mut out);
        assert_eq!(out.len(), 2);
        assert!(u64::MAX.append(&mut Vec::new()).is_err());
    }
}
