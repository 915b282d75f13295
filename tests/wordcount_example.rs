//! The seed's word count example, driven over a real loopback socket as a user would.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

mod support;
use support::example;

struct Running {
    child: Child,
    lines: Receiver<String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(example("wordcount"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, lines }
    }

    /// Lines printed until `done` says so, or 10 s.
    fn wait_for(&self, mut done: impl FnMut(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        while !done(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => seen.push(l),
                Err(_) => break,
            }
        }
        seen
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn counts_printed(seen: &[String]) -> bool {
    seen.iter().any(|l| l == "(\"hello\", 2)") && seen.iter().any(|l| l == "(\"world\", 1)")
}

#[test]
fn counts_words_sent_to_its_listening_socket() {
    let wc = Running::start(&[
        "--listen",
        "127.0.0.1:0",
        "--batch-interval",
        "200ms",
        "--master",
        "local[2]",
    ]);
    let banner = wc.wait_for(|s| s.iter().any(|l| l.contains("listening on")));
    let line = banner
        .iter()
        .find(|l| l.contains("listening on"))
        .expect("prints where it listens");
    let addr = line
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches(';')
        .to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(b"hello world hello\n").unwrap();
    drop(conn);
    let seen = wc.wait_for(counts_printed);
    assert!(counts_printed(&seen), "printed:\n{}", seen.join("\n"));
    assert!(
        seen.iter()
            .any(|l| l.starts_with("Time: ") && l.ends_with(" ms"))
    );
}

#[test]
fn connects_to_a_server_like_nc_lk() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = server.local_addr().unwrap().to_string();
    let wc = Running::start(&[
        "--connect",
        &target,
        "--batch-interval",
        "200ms",
        "--parallelism",
        "2",
    ]);
    let (mut conn, _) = server.accept().unwrap();
    conn.write_all(b"hello world hello\n").unwrap();
    let seen = wc.wait_for(counts_printed);
    assert!(counts_printed(&seen), "printed:\n{}", seen.join("\n"));
}

#[test]
fn bad_flags_exit_with_usage() {
    let out = Command::new(example("wordcount"))
        .args(["--master", "yarn"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("local[N]"));
}

#[test]
fn help_lists_the_jobs_flags_beside_rills() {
    let out = Command::new(example("wordcount"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--connect",
        "--master",
        "--batch-interval",
        "--checkpoint",
        "--log-level",
        "--explain",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn explain_prints_the_plan_and_exits() {
    let out = Command::new(example("wordcount"))
        .args(["--listen", "127.0.0.1:0", "--explain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan.contains("reduce_by_key") && plan.contains("stage 1"),
        "{plan}"
    );
}

/// `GET path` on `addr`; the response body.
fn http_get(addr: &str, path: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut conn, &mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string())
}

#[test]
fn ui_flag_serves_the_batches_and_the_metrics_of_the_job() {
    let mut child = Command::new(example("wordcount"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--batch-interval",
            "100ms",
            "--ui",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let ui = stderr
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once("streaming UI at http://")
                .map(|(_, a)| a.trim_end_matches('/').to_string())
        })
        .expect("the job says where its UI is");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut batches = String::new();
    while Instant::now() < deadline && !batches.contains("\"time_ms\"") {
        std::thread::sleep(Duration::from_millis(200));
        batches = http_get(&ui, "/api/v1/batches");
    }
    let metrics = http_get(&ui, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    let head: String = batches.chars().take(300).collect();
    assert!(batches.contains("\"time_ms\""), "no batches listed: {head}");
    assert!(
        metrics.contains("rill_batches_completed_total"),
        "{metrics}"
    );
}
