//! The running-totals example's outputs, read back: its batch directories
//! (`totals-<ms>.txt/part-*`, `_SUCCESS` last) and the batch times it printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// One batch's running totals, by word.
pub type Totals = BTreeMap<String, u64>;

/// The lines of every complete batch directory `<prefix>-<ms>.txt` under `out` (its
/// `part-*` files, `_SUCCESS` written), by batch time, and how many directories were
/// not complete (a job killed while writing one).
pub fn batch_lines(out: &Path, prefix: &str) -> (BTreeMap<u64, Vec<String>>, usize) {
    let (mut all, mut incomplete) = (BTreeMap::new(), 0);
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(ms) = name
            .strip_prefix(prefix)
            .and_then(|n| n.strip_prefix('-'))
            .and_then(|n| n.strip_suffix(".txt"))
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        if !e.path().join("_SUCCESS").exists() {
            incomplete += 1;
            continue;
        }
        let mut lines = Vec::new();
        for part in std::fs::read_dir(e.path()).unwrap().flatten() {
            if part.file_name().to_string_lossy().starts_with("part-") {
                let text = std::fs::read_to_string(part.path()).unwrap();
                lines.extend(text.lines().map(str::to_string));
            }
        }
        all.insert(ms, lines);
    }
    (all, incomplete)
}

/// Waits until `read()` holds at least `n` batches; returns them.
pub fn wait_batches<T>(
    n: usize,
    what: &str,
    mut read: impl FnMut() -> BTreeMap<u64, T>,
) -> BTreeMap<u64, T> {
    let deadline = Instant::now() + super::HUNG;
    loop {
        let all = read();
        if all.len() >= n {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: only {} of {n} batches were written",
            all.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Batches in batch order, checked contiguous (one per 100 ms batch interval).
pub fn in_order<T: Clone>(all: &BTreeMap<u64, T>, what: &str) -> Vec<T> {
    let times: Vec<u64> = all.keys().copied().collect();
    for w in times.windows(2) {
        assert_eq!(
            w[1] - w[0],
            100,
            "{what}: a batch is missing between {} and {}",
            w[0],
            w[1]
        );
    }
    all.values().cloned().collect()
}

/// Output directories `totals-<ms>.txt` with their totals, by time; every one complete.
pub fn outputs(out: &Path) -> BTreeMap<u64, Totals> {
    let (all, incomplete) = batch_lines(out, "totals");
    assert_eq!(incomplete, 0, "every totals directory is complete");
    all.into_iter()
        .map(|(ms, lines)| {
            let t = lines
                .iter()
                .map(|line| {
                    // ("word", 3)
                    let (w, n) = line
                        .trim_matches(|c| c == '(' || c == ')')
                        .split_once(", ")
                        .unwrap();
                    (w.trim_matches('"').to_string(), n.parse().unwrap())
                })
                .collect();
            (ms, t)
        })
        .collect()
}

/// How many times each batch time was printed, over every run.
pub fn deliveries(stdout: &Path) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for line in std::fs::read_to_string(stdout).unwrap_or_default().lines() {
        if let Some(ms) = line
            .strip_prefix("Time: ")
            .and_then(|t| t.strip_suffix(" ms"))
            .and_then(|t| t.parse::<u64>().ok())
        {
            *seen.entry(ms).or_default() += 1;
        }
    }
    seen
}

/// Waits until `out` holds at least `n` batch directories.
pub fn wait_outputs(out: &Path, n: usize) -> BTreeMap<u64, Totals> {
    wait_batches(n, "totals", || outputs(out))
}
