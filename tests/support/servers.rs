//! Where the servers that the connector tests talk to listen. `.ci/servers start DIR`
//! starts them on loopback and writes their addresses into `DIR/env`; `.ci/run` sources
//! it. A test whose server is not set up skips, saying why, unless
//! `RILL_REQUIRE_SERVERS=1` (set by `.ci/run`) says it must run: then it fails, so CI
//! cannot pass by skipping.

use std::path::PathBuf;

/// The bucket `.ci/servers` creates in the S3 server.
pub const S3_BUCKET: &str = "rill-test";

/// The value of the environment variable `var`, or `None` after printing why the test
/// skips; panics instead when `RILL_REQUIRE_SERVERS=1`.
fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            let why = format!(
                "{var} not set (run .ci/run, or start the servers with .ci/servers start DIR)"
            );
            if std::env::var("RILL_REQUIRE_SERVERS").as_deref() == Ok("1") {
                panic!("RILL_REQUIRE_SERVERS=1 but {why}");
            }
            eprintln!("skipping: {why}");
            None
        }
    }
}

/// Redis (with Streams), as `redis://127.0.0.1:PORT`.
pub fn redis_url() -> Option<String> {
    server("RILL_TEST_REDIS_URL")
}

/// NATS with JetStream, as `nats://127.0.0.1:PORT`.
pub fn nats_url() -> Option<String> {
    server("RILL_TEST_NATS_URL")
}

/// PostgreSQL, as a libpq key-value string: `host=127.0.0.1 port=PORT user=postgres
/// dbname=postgres`.
pub fn pg_dsn() -> Option<String> {
    server("RILL_TEST_PG_DSN")
}

/// The S3 server (moto), as `http://127.0.0.1:PORT`; it has the bucket [`S3_BUCKET`] and
/// takes any credentials.
pub fn s3_endpoint() -> Option<String> {
    server("RILL_TEST_S3_ENDPOINT")
}

/// The Chromium binary, checked to run headless (as root it needs `--no-sandbox`).
pub fn chromium() -> Option<PathBuf> {
    server("RILL_TEST_CHROMIUM").map(PathBuf::from)
}
