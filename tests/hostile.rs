//! The word count example under hostile clients: one sends a 1 GiB line without a
//! newline and holds the connection open, 10,000 connect and stay idle, one sends
//! random binary garbage; meanwhile a well-behaved client sends words. Every word of the
//! good client is counted exactly, nothing from the others is, the example's peak
//! memory stays bounded and its log is not flooded.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

mod support;
use support::example;

/// Bytes of the line without a newline.
const LONG_LINE: u64 = 1 << 30;
/// Connections that stay idle.
const IDLE: usize = 10_000;
/// Bytes of binary garbage.
const GARBAGE: usize = 16 << 20;
/// Parts the good client's lines (and the garbage) are sent in, one whenever the long
/// line has come another `1/PARTS` of its way, so they overlap it.
const PARTS: u64 = 32;
/// Lines the good client sends in each part.
const LINES_PER_PART: usize = 200;
const WORDS: [&str; 5] = ["apple", "banana", "cherry", "damson", "elder"];
/// Peak resident memory the example may reach, in KiB: 3 times the 8 MiB measured
/// with this load in a debug build (5.5 MiB idle), far below the 1 GiB that buffering
/// the long line took.
const MAX_PEAK_KIB: u64 = 24 * 1024;
/// The whole test's time limit.
const DEADLINE: Duration = Duration::from_secs(50);

struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr_lines: Arc<AtomicU64>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_wordcount() -> Running {
    let mut child = Command::new(example("wordcount"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--batch-interval",
            "200ms",
            "--master",
            "local[2]",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, stdout) = channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let stderr_lines = Arc::new(AtomicU64::new(0));
    let (err, counted) = (child.stderr.take().unwrap(), stderr_lines.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            counted.fetch_add(1, Ordering::Relaxed);
            eprintln!("wordcount: {line}");
        }
    });
    Running {
        child,
        stdout,
        stderr_lines,
    }
}

/// A status field of `/proc/<pid>/status` in KiB (`VmHWM` is the peak resident set).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Raises this process's soft open-files limit to `need` (within the hard limit).
#[allow(unsafe_code)]
fn raise_open_files_limit(need: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the rlimit we pass, which outlives the call.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur >= need {
        return;
    }
    assert!(
        lim.rlim_max >= need,
        "the hard open-files limit {} is below the {need} this test needs",
        lim.rlim_max
    );
    lim.rlim_cur = need;
    // SAFETY: setrlimit only reads the rlimit we pass, which outlives the call.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

/// A small deterministic generator (xorshift64) for the garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random bytes, with `0xFF` (never in UTF-8) after every `\n`, so every garbage line
/// is malformed. Garbage that happened to form short valid lines would add words, and
/// `print()` shows only a batch's first 10 records: the good words could go unseen.
fn garbage(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + len / 64);
    while out.len() < len {
        for b in rng.next().to_le_bytes() {
            out.push(b);
            if b == b'\n' {
                out.push(0xFF);
            }
        }
    }
    out
}

/// The good client's lines of part `part` and the words they hold.
fn good_lines(part: u64, counts: &mut HashMap<String, u64>) -> String {
    let mut text = String::new();
    for i in 0..LINES_PER_PART {
        let n = (part as usize + i) % WORDS.len() + 1;
        let words: Vec<&str> = (0..n).map(|k| WORDS[(i + k) % WORDS.len()]).collect();
        for w in &words {
            *counts.entry(w.to_string()).or_default() += 1;
        }
        text.push_str(&words.join(" "));
        text.push_str(if i % 2 == 0 { "\n" } else { "\r\n" });
    }
    text
}

/// What the example printed so far: counts of the good words, anything else, and
/// whether a frame was cut short by `print()`'s 10-record limit.
#[derive(Default)]
struct Printed {
    counts: HashMap<String, u64>,
    unexpected: Vec<String>,
    truncated: bool,
    frames: u64,
}

impl Printed {
    fn take(&mut self, line: &str) {
        if line.starts_with("Time: ") {
            self.frames += 1;
        } else if line == "..." {
            self.truncated = true;
        } else if let Some(record) = line.strip_prefix("(\"") {
            let parsed = record
                .strip_suffix(')')
                .and_then(|r| r.rsplit_once("\", "))
                .and_then(|(w, n)| Some((w, n.parse::<u64>().ok()?)));
            match parsed {
                Some((w, n)) if WORDS.contains(&w) => {
                    *self.counts.entry(w.to_string()).or_default() += n
                }
                _ => self.unexpected.push(line.chars().take(80).collect()),
            }
        }
    }
}

#[test]
fn hostile_clients_neither_grow_memory_nor_lose_a_good_clients_words() {
    let started = Instant::now();
    let deadline = started + DEADLINE;
    raise_open_files_limit(IDLE as u64 + 256);
    let mut wc = start_wordcount();
    let pid = wc.child.id();
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = wc
            .stdout
            .recv_timeout(left)
            .expect("prints where it listens");
        if let Some(rest) = line.strip_prefix("wordcount: listening on ") {
            break rest.split(';').next().unwrap().to_string();
        }
    };
    let idle_kib = status_kib(pid, "VmHWM");

    // 10,000 idle clients, all accepted (the example holds a socket for each). The
    // connections wait for the example to accept when they are far ahead of it, so a
    // full listen queue does not drop them into the kernel's 1 s SYN retry.
    let fds_before = open_fds(pid);
    let accepted = || open_fds(pid).saturating_sub(fds_before);
    let mut idle: Vec<TcpStream> = Vec::with_capacity(IDLE);
    while idle.len() < IDLE {
        while idle.len() - accepted().min(idle.len()) > 50 {
            assert!(Instant::now() < deadline, "the example stopped accepting");
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..50.min(IDLE - idle.len()) {
            idle.push(TcpStream::connect(&addr).unwrap());
        }
    }
    while accepted() < IDLE {
        assert!(
            Instant::now() < deadline,
            "the example accepted {} of {IDLE} idle clients",
            accepted()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let connected_at = started.elapsed();

    // The 1 GiB line, sent as fast as the example reads it; the connection stays open.
    let sent = Arc::new(AtomicU64::new(0));
    let long = {
        let (sent, mut conn) = (sent.clone(), TcpStream::connect(&addr).unwrap());
        std::thread::spawn(move || {
            let piece = vec![b'a'; 1 << 20];
            while sent.load(Ordering::Relaxed) < LONG_LINE {
                conn.write_all(&piece).unwrap();
                sent.fetch_add(piece.len() as u64, Ordering::Relaxed);
            }
            conn
        })
    };

    // Garbage and good lines in parts, each when the long line has come further.
    let mut bad = TcpStream::connect(&addr).unwrap();
    let mut good = TcpStream::connect(&addr).unwrap();
    let mut expected = HashMap::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut printed = Printed::default();
    for part in 0..PARTS {
        while sent.load(Ordering::Relaxed) < part * LONG_LINE / PARTS {
            assert!(Instant::now() < deadline, "the long line stalled");
            std::thread::sleep(Duration::from_millis(5));
        }
        bad.write_all(&garbage(&mut rng, GARBAGE / PARTS as usize))
            .unwrap();
        good.write_all(good_lines(part, &mut expected).as_bytes())
            .unwrap();
        while let Ok(line) = wc.stdout.try_recv() {
            printed.take(&line);
        }
    }
    // A last line without `\n` counts when its client closes.
    good.write_all(b"apple elder").unwrap();
    for w in ["apple", "elder"] {
        *expected.get_mut(w).unwrap() += 1;
    }
    drop(good);
    drop(bad);
    let long_conn = long.join().unwrap();
    let sent_at = started.elapsed();

    // Wait until the good words are all counted, then two more frames for any excess.
    let mut frames_after = None;
    loop {
        let done = WORDS
            .iter()
            .all(|w| printed.counts.get(*w) >= expected.get(*w));
        match (done, frames_after) {
            (true, None) => frames_after = Some(printed.frames + 2),
            (true, Some(f)) if printed.frames >= f => break,
            _ => {}
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match wc.stdout.recv_timeout(left) {
            Ok(line) => printed.take(&line),
            Err(_) => break,
        }
    }
    let counted_at = started.elapsed();
    let peak_kib = status_kib(pid, "VmHWM");
    let rss_kib = status_kib(pid, "VmRSS");
    let log_lines = wc.stderr_lines.load(Ordering::Relaxed);
    eprintln!(
        "hostile: peak RSS {peak_kib} KiB (idle {idle_kib} KiB, now {rss_kib} KiB); \
         {IDLE} idle clients connected at {connected_at:?}, 1 GiB sent at {sent_at:?}, \
         all counted at {counted_at:?}; {} frames; {log_lines} log lines",
        printed.frames
    );

    assert!(!printed.truncated, "a frame had more than 10 records");
    assert!(
        printed.unexpected.is_empty(),
        "records from the hostile clients: {:?}",
        printed.unexpected
    );
    let mut got: Vec<_> = printed.counts.into_iter().collect();
    let mut want: Vec<_> = expected.into_iter().collect();
    got.sort();
    want.sort();
    assert_eq!(
        got, want,
        "the good client's words, counted over all batches"
    );
    assert!(
        peak_kib < MAX_PEAK_KIB,
        "peak RSS {peak_kib} KiB is over {MAX_PEAK_KIB} KiB"
    );
    assert!(
        log_lines < 100,
        "{log_lines} log lines: warnings about hostile clients must be rate-limited"
    );
    assert!(
        wc.child.try_wait().unwrap().is_none(),
        "the example is still running"
    );
    drop(idle);
    drop(long_conn);
}
