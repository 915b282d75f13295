//! The running-totals example's outputs, read back: its batch directories
//! (`totals-<ms>.txt/part-*`, `_SUCCESS` last) and the batch times it printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// One batch's running totals, by word.
pub type Totals = BTreeMap<String, u64>;

/// Output directories `totals-<ms>.txt` with their totals, by time.
pub fn outputs(out: &Path) -> BTreeMap<u64, Totals> {
    let mut all = BTreeMap::new();
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(ms) = name
            .strip_prefix("totals-")
            .and_then(|n| n.strip_suffix(".txt"))
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        assert!(e.path().join("_SUCCESS").exists(), "{name} is complete");
        let mut t = Totals::new();
        for part in std::fs::read_dir(e.path()).unwrap().flatten() {
            if !part.file_name().to_string_lossy().starts_with("part-") {
                continue;
            }
            for line in std::fs::read_to_string(part.path()).unwrap().lines() {
                // ("word", 3)
                let (w, n) = line
                    .trim_matches(|c| c == '(' || c == ')')
                    .split_once(", ")
                    .unwrap();
                t.insert(w.trim_matches('"').to_string(), n.parse().unwrap());
            }
        }
        all.insert(ms, t);
    }
    all
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
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = outputs(out);
        if all.len() >= n {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} batches were written",
            all.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Batch outputs in batch order, checked contiguous (one per batch interval).
pub fn in_order(all: &BTreeMap<u64, Totals>, what: &str) -> Vec<Totals> {
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
