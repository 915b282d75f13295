//! Each server that `.ci/servers` starts answers its own protocol where the environment
//! says it listens: the check that the servers the connector tests need are there. Only
//! std: each test speaks the first words of the protocol over a `TcpStream`.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::servers;

/// Far longer than any of these servers takes to answer on loopback.
const ANSWER: Duration = Duration::from_secs(30);

/// A connection to `addr` (`host:port`) that gives up on a silent server.
fn connect(addr: &str) -> TcpStream {
    let conn = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    conn.set_read_timeout(Some(ANSWER)).unwrap();
    conn.set_write_timeout(Some(ANSWER)).unwrap();
    conn
}

/// The `host:port` of a URL such as `redis://127.0.0.1:6390` or `http://127.0.0.1:5055/`.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap()
}

/// The first line `conn` sends, without its line end; `from` names the server.
fn first_line(conn: &TcpStream, from: &str) -> String {
    let mut line = String::new();
    if let Err(e) = BufReader::new(conn).read_line(&mut line) {
        panic!("no line from {from}: {e}");
    }
    line.trim_end().to_string()
}

#[test]
fn redis_answers_ping() {
    let Some(url) = servers::redis_url() else {
        return;
    };
    let mut conn = connect(authority(&url));
    // An inline command: RESP lets a client send a command as a plain line.
    conn.write_all(b"PING\r\n").unwrap();
    let reply = first_line(&conn, &url);
    assert_eq!(reply, "+PONG", "redis at {url}");
}

#[test]
fn nats_has_jetstream() {
    let Some(url) = servers::nats_url() else {
        return;
    };
    let conn = connect(authority(&url));
    // The server speaks first: `INFO {...}`, whose JSON says `"jetstream":true` when it
    // runs with -js (nats-server 2.9 included).
    let info = first_line(&conn, &url);
    assert!(info.starts_with("INFO {"), "nats at {url} sent {info}");
    assert!(
        info.contains(r#""jetstream":true"#),
        "nats at {url} runs without JetStream: {info}"
    );
}

#[test]
fn postgres_answers_ssl_request() {
    let Some(dsn) = servers::pg_dsn() else { return };
    let field = |key: &str| {
        dsn.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {key}= in {dsn}"))
    };
    let mut conn = connect(&format!("{}:{}", field("host"), field("port")));
    // SSLRequest: length 8, then the code 80877103. A PostgreSQL server answers with one
    // byte, 'S' (it will speak TLS) or 'N' (it will not).
    let mut request = 8u32.to_be_bytes().to_vec();
    request.extend(80877103u32.to_be_bytes());
    conn.write_all(&request).unwrap();
    let mut answer = [0u8; 1];
    conn.read_exact(&mut answer).unwrap();
    assert!(
        matches!(answer[0], b'N' | b'S'),
        "postgres at {dsn} answered {:?}",
        answer[0] as char
    );
}

#[test]
fn s3_has_the_test_bucket() {
    let Some(endpoint) = servers::s3_endpoint() else {
        return;
    };
    let host = authority(&endpoint);
    let mut conn = connect(host);
    let bucket = servers::S3_BUCKET;
    write!(
        conn,
        "HEAD /{bucket} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let status = first_line(&conn, &endpoint);
    let code = status.split_whitespace().nth(1);
    assert_eq!(code, Some("200"), "HEAD /{bucket} at {endpoint}: {status}");
}

#[test]
fn chromium_renders_headless() {
    let Some(chromium) = servers::chromium() else {
        return;
    };
    // A profile of its own, so that this run shares no lock with another Chromium.
    let profile = std::env::temp_dir().join(format!("rill-chromium-{}", std::process::id()));
    let mut child = Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu"])
        // The machines have no network beyond loopback: no background fetches.
        .args([
            "--no-first-run",
            "--disable-background-networking",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", "data:text/html,<p id=x>ok</p>"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", chromium.display()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        stdout.read_to_string(&mut dom).map(|_| dom)
    });
    let status = support::wait_exit(&mut child, "chromium --dump-dom to exit");
    let dom = reader.join().unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        status.success(),
        "{} exited with {status}",
        chromium.display()
    );
    assert!(
        dom.contains(r#"<p id="x">ok</p>"#),
        "{} printed {dom:?}",
        chromium.display()
    );
}
