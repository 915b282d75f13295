//! A job whose stdout (or stdout and stderr) was closed by its reader, as in
//! `wordcount 2>&1 | head -3`: the failed write of `print()` ends the job with an error,
//! as a Unix tool stops on EPIPE, and a stop asked for meanwhile completes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

mod support;
use support::{example, free_addr, wait_exit};

/// Starts the word count on a free port with stdout (and stderr too, if `both`) piped to
/// this test; returns the process, its address and the pipe's reader.
fn start(both: bool) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let addr = free_addr();
    let mut cmd = Command::new(example("wordcount"));
    cmd.args(["--listen", &addr, "--batch-interval", "100ms"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped());
    if both {
        cmd.stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    out.read_line(&mut banner).unwrap();
    assert!(banner.contains("listening on"), "{banner}");
    (child, addr, out)
}

fn send(addr: &str, text: &str) {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(text.as_bytes()).unwrap();
}

#[test]
fn a_closed_stdout_ends_the_job_with_an_error() {
    let (mut child, addr, out) = start(false);
    drop(out);
    send(&addr, "hello world hello\n");
    let status = wait_exit(&mut child, "the job to exit after a failed print");
    assert!(!status.success(), "a failed print is an error: {status}");
}

#[test]
fn with_stdout_and_stderr_closed_a_sigterm_still_stops_the_job() {
    let (mut child, _, out) = start(true);
    drop(out);
    drop(child.stderr.take());
    // Log lines now go to a closed stderr; a stop must complete all the same.
    let pid = child.id().to_string();
    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    wait_exit(&mut child, "the job to exit after SIGTERM");
    // And with a line sent first, whichever of the two ends it.
    let (mut child, addr, out) = start(true);
    drop(out);
    drop(child.stderr.take());
    send(&addr, "hello\n");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    wait_exit(&mut child, "the job to exit after SIGTERM");
}
