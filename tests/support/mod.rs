//! Helpers shared by integration tests that run the examples as processes or wait for
//! what a running job does, and ([`servers`]) where the servers that the connector tests
//! talk to listen.
// Each test uses part of this module.
#![allow(dead_code)]

pub mod servers;
pub mod totals;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a wait for an event may take before the run is taken as hung: far longer than
/// any event takes on a loaded machine, so only a run that is truly stuck fails by it.
pub const HUNG: Duration = Duration::from_secs(120);

/// The binary of example `name`, brought up to date by cargo (with this test build's
/// features and profile) the first time this test binary asks for it, so a test never
/// runs an example left by an older build.
pub fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, bin)) = built.iter().find(|(n, _)| n == name) {
        return bin.clone();
    }
    let bin = example_with_features(name);
    built.push((name.to_string(), bin.clone()));
    bin
}

/// The binary of example `name`, built (or found up to date) by cargo with the features
/// and profile of this test build, so that a feature-gated example has the features the
/// test needs, whichever earlier build left a binary of it.
pub fn example_with_features(name: &str) -> PathBuf {
    let features: Vec<&str> = [
        ("redis", cfg!(feature = "redis")),
        ("nats", cfg!(feature = "nats")),
        ("postgres", cfg!(feature = "postgres")),
        ("object-store", cfg!(feature = "object-store")),
        ("force-unfused", cfg!(feature = "force-unfused")),
        ("cluster", cfg!(feature = "cluster")),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(f, _)| *f)
    .collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--example", name]);
    // What cargo sets for a running test is not the environment of a build: a build script
    // that watches one of these (ring's watches CARGO_MANIFEST_DIR and OUT_DIR) would run again, and
    // everything above it be rebuilt, each time a test and a build alternate.
    for (var, _) in std::env::vars_os() {
        let var = var.to_string_lossy();
        let per_test = [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_BIN_",
            "CARGO_CRATE_",
        ]
        .iter()
        .any(|p| var.starts_with(p))
            || [
                "CARGO_TARGET_TMPDIR",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&&*var);
        if per_test {
            build.env_remove(&*var);
        }
    }
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    assert!(
        build.status().unwrap().success(),
        "cannot build the example {name}"
    );
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Waits until `done()` holds, checking every few milliseconds; panics with `what` if it
/// does not within [`HUNG`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + HUNG;
    while !done() {
        assert!(Instant::now() < deadline, "waited {HUNG:?} for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The lines a child writes to a pipe, read on a thread of their own (so the child never
/// blocks on a full pipe).
pub struct Lines(mpsc::Receiver<String>);

impl Lines {
    /// Reads `pipe` line by line until it closes.
    pub fn read(pipe: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Lines(rx)
    }

    /// The first line (from now on) for which `matches` holds; panics with `what` if the
    /// pipe closes first or none comes within [`HUNG`].
    pub fn wait_for(&self, what: &str, mut matches: impl FnMut(&str) -> bool) -> String {
        let deadline = Instant::now() + HUNG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(line) if matches(&line) => return line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("waited {HUNG:?} for {what}"),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the output closed before {what}")
                }
            }
        }
    }
}

/// Waits for `child` to exit; kills it and panics with `what` if it has not within
/// [`HUNG`].
pub fn wait_exit(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + HUNG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("waited {HUNG:?} for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A loopback address with a port that was free a moment ago, for a job to listen on.
pub fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// Closes the sending half of `conn` and waits until the peer closes its end: a receiver
/// closes a connection once it has read everything up to the end of the stream and
/// handed it on, so after this every line sent was received.
pub fn finish_sending(conn: &mut std::net::TcpStream) {
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    conn.set_read_timeout(Some(HUNG)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("waiting for the receiver to read everything: {e}"),
        }
    }
}

/// A seed for a crash test's random kill points: `RILL_CRASH_SEED` to replay a failure,
/// else the clock. Printed with `test`, so a failing run says how to repeat it.
pub fn crash_seed(test: &str) -> u64 {
    let seed = std::env::var("RILL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
                | 1
        });
    eprintln!("{test}: RILL_CRASH_SEED={seed}");
    seed
}

/// xorshift64: the next pseudo-random number from `seed`.
pub fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}
