//! `text_file_stream(dir)`: the lines of files that appear in a directory after start,
//! each file read once, as Spark's `textFileStream` (files already there at start are
//! ignored; names starting with `.` or `_` are temporary files and skipped; write a file
//! elsewhere and move it in so it is complete when seen).
//!
//! As Spark's `FileInputDStream`, the clock's cut only lists the directory: a file is new
//! if its modification time is within the remember window (60 s by default, Spark's
//! `minRememberDuration`) and it was not selected before. Only files within the window
//! are remembered, so the set stays small however long the job runs; a file whose
//! modification time is older than the window when it is first listed (after a long
//! stop, or moved in with an old time) is ignored, as in Spark. The files are read when
//! the batch runs, in parallel on the workers, not on the clock's thread.

use super::{Slot, SourceControl, SourceStats};
use crate::checkpoint::store::{from_bytes, to_bytes};
use crate::sync::lock;
use crate::{Batch, Parts, Time, split_even};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

/// A source reading new files of a directory at every batch.
pub struct FileSource {
    dir: PathBuf,
    remember_ms: u64,
    /// Files selected within the remember window, with their modification times (ms).
    seen: Mutex<HashMap<PathBuf, u64>>,
    last_cut: Mutex<(Time, Vec<PathBuf>)>,
    slot: Arc<Slot<String>>,
    stats: Arc<SourceStats>,
}

/// Milliseconds since the epoch of a file's modification time (0 if unknown).
fn mtime_ms(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

impl FileSource {
    /// A source watching `dir` that remembers selected files for `remember`; returns
    /// the source and its slot.
    pub fn new(
        dir: impl Into<PathBuf>,
        remember: Duration,
        stats: Arc<SourceStats>,
        partitions: usize,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let slot = Arc::new(Slot::new(partitions));
        let src = FileSource {
            dir: dir.into(),
            remember_ms: remember.as_millis() as u64,
            seen: Mutex::new(HashMap::new()),
            last_cut: Mutex::new((Time(0), Vec::new())),
            slot: slot.clone(),
            stats,
        };
        (Arc::new(src), slot)
    }

    /// Regular, visible files of the directory with their modification times, sorted by
    /// name.
    fn list(&self) -> std::io::Result<Vec<(PathBuf, u64)>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            // A file removed between the listing and here is simply not new.
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_file() {
                files.push((entry.path(), mtime_ms(&meta)));
            }
        }
        files.sort();
        Ok(files)
    }

    /// Files older than this were selected already or are too old to be new.
    fn threshold(&self) -> u64 {
        crate::time::now_ms().saturating_sub(self.remember_ms)
    }

    /// Files `batch` reads: its partitions are filled when the batch runs.
    fn read_later(&self, time: Time, files: Vec<PathBuf>) {
        let stats = self.stats.clone();
        self.slot.put_deferred(
            time,
            Box::new(move |batch: &Batch<'_>| Ok(read_files(batch, files, &stats))),
        );
    }
}

/// Reads `files` in parallel on the batch's workers, in order, into its partitions.
fn read_files(batch: &Batch<'_>, files: Vec<PathBuf>, stats: &SourceStats) -> Parts<String> {
    let per_file = batch.map_owned(files, |path| read_lines(&path, stats));
    let lines: Vec<String> = per_file.into_iter().flatten().collect();
    stats.add_late_records(lines.len());
    split_even(lines, batch.partitions())
}

/// The lines of one file; a line that is not UTF-8 is counted and skipped.
fn read_lines(path: &Path, stats: &SourceStats) -> Vec<String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read a new file; skipping it");
            return Vec::new();
        }
    };
    lines_of(&bytes, &path.display(), stats)
}

/// The lines of a file's bytes (`what` names it in warnings); a line that is not UTF-8
/// is counted and skipped.
pub(super) fn lines_of(
    bytes: &[u8],
    what: &dyn std::fmt::Display,
    stats: &SourceStats,
) -> Vec<String> {
    let mut out = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match std::str::from_utf8(line) {
            Ok(s) => out.push(s.to_string()),
            Err(_) => {
                stats.malformed();
                tracing::warn!(path = %what, "skipping a line that is not UTF-8");
            }
        }
    }
    // A file ending in a newline has no empty last line.
    if (bytes.last() == Some(&b'\n') || bytes.is_empty())
        && out.last().is_some_and(String::is_empty)
    {
        out.pop();
    }
    out
}

/// The checkpointed form of the remembered files: `(path, modification ms)`, sorted.
type Remembered = Vec<(String, u64)>;

impl SourceControl for FileSource {
    fn describe(&self) -> String {
        format!("text_file_stream({})", self.dir.display())
    }

    fn start(&self) -> crate::Result<()> {
        let existing = self.list().map_err(|e| {
            crate::Error::io(format!("cannot read directory {}", self.dir.display()), e)
        })?;
        lock(&self.seen).extend(existing);
        Ok(())
    }

    fn cut(&self, time: Time) -> usize {
        let files = match self.list() {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot list directory; no new files this batch");
                Vec::new()
            }
        };
        let threshold = self.threshold();
        let mut taken = Vec::new();
        let mut seen = lock(&self.seen);
        for (path, mtime) in files {
            if mtime > threshold && !seen.contains_key(&path) {
                seen.insert(path.clone(), mtime);
                taken.push(path);
            }
        }
        // A file older than the window can no longer be new: forget it.
        seen.retain(|_, mtime| *mtime > threshold);
        drop(seen);
        *lock(&self.last_cut) = (time, taken.clone());
        self.read_later(time, taken);
        0
    }

    fn stop(&self) {}

    fn block_record(&self, time: Time) -> crate::Result<Vec<u8>> {
        let last = lock(&self.last_cut);
        let files: Vec<String> = if last.0 == time {
            last.1
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        } else {
            Vec::new()
        };
        to_bytes(&files)
    }

    fn replay(&self, time: Time, record: &[u8]) -> crate::Result<usize> {
        let files: Vec<PathBuf> = from_bytes::<Vec<String>>(record)?
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let mut seen = lock(&self.seen);
        for path in &files {
            let mtime = std::fs::metadata(path).map_or(0, |m| mtime_ms(&m));
            seen.insert(path.clone(), mtime);
        }
        drop(seen);
        *lock(&self.last_cut) = (time, files.clone());
        self.read_later(time, files);
        Ok(0)
    }

    fn position(&self) -> crate::Result<Vec<u8>> {
        let mut seen: Remembered = lock(&self.seen)
            .iter()
            .map(|(p, t)| (p.to_string_lossy().into_owned(), *t))
            .collect();
        seen.sort();
        to_bytes(&seen)
    }

    fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        let seen: Remembered = from_bytes(position)?;
        *lock(&self.seen) = seen
            .into_iter()
            .map(|(p, t)| (PathBuf::from(p), t))
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Executor, sources::SourceHandle};

    fn take(slot: &Arc<Slot<String>>, time: Time) -> Parts<String> {
        let exec = Executor::new(1).unwrap();
        let batch = Batch::new(time, Time(0), &exec);
        SourceHandle::new(slot.clone()).take(&batch)
    }

    #[test]
    fn reads_only_new_visible_files_once() {
        let dir = std::env::temp_dir().join(format!("rill-file-src-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("old.txt"), "old\n").unwrap();
        let (src, slot) = FileSource::new(&dir, Duration::from_secs(60), Arc::default(), 1);
        src.start().unwrap();
        std::fs::write(dir.join("a.txt"), "x y\nz\n").unwrap();
        std::fs::write(dir.join(".hidden"), "no\n").unwrap();
        std::fs::write(dir.join("b.txt"), b"ok\n\xff\nlast").unwrap();
        src.cut(Time(1000));
        assert_eq!(
            take(&slot, Time(1000)),
            vec![vec!["x y", "z", "ok", "last"]]
        );
        assert_eq!(src.stats.late_records(), 4);
        src.cut(Time(2000));
        assert_eq!(take(&slot, Time(2000)), vec![Vec::<String>::new()]);
        assert_eq!(src.stats.malformed_count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn remembers_files_only_within_the_window() {
        let dir = std::env::temp_dir().join(format!("rill-file-window-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (src, slot) = FileSource::new(&dir, Duration::from_secs(60), Arc::default(), 1);
        src.start().unwrap();
        std::fs::write(dir.join("new.txt"), "n\n").unwrap();
        // Moved in with a modification time older than the window: not new (Spark too).
        let old = dir.join("old.txt");
        std::fs::write(&old, "o\n").unwrap();
        let past = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(past)
            .unwrap();
        src.cut(Time(1000));
        assert_eq!(take(&slot, Time(1000)), vec![vec!["n"]]);
        // The remembered set holds the new file only, and survives a position round trip.
        let pos = src.position().unwrap();
        let remembered: Remembered = from_bytes(&pos).unwrap();
        assert_eq!(remembered.len(), 1);
        assert!(remembered[0].0.ends_with("new.txt"));
        let (again, _) = FileSource::new(&dir, Duration::from_secs(60), Arc::default(), 1);
        again.restore_position(&pos).unwrap();
        assert_eq!(lock(&again.seen).len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
