//! `text_file_stream(dir)`: the lines of files that appear in a directory after start,
//! each file read once, as Spark's `textFileStream` (files already there at start are
//! ignored; names starting with `.` or `_` are temporary files and skipped; write a file
//! elsewhere and move it in so it is complete when seen).

use super::{Slot, SourceControl, SourceStats, lock};
use crate::Time;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A source reading new files of a directory at every batch.
pub struct FileSource {
    dir: PathBuf,
    seen: Mutex<HashSet<PathBuf>>,
    last_cut: Mutex<(Time, Vec<PathBuf>)>,
    slot: Arc<Slot<String>>,
    stats: Arc<SourceStats>,
}

impl FileSource {
    /// A source watching `dir`; returns the source and its slot.
    pub fn new(
        dir: impl Into<PathBuf>,
        stats: Arc<SourceStats>,
        partitions: usize,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let slot = Arc::new(Slot::new(partitions));
        let src = FileSource {
            dir: dir.into(),
            seen: Mutex::new(HashSet::new()),
            last_cut: Mutex::new((Time(0), Vec::new())),
            slot: slot.clone(),
            stats,
        };
        (Arc::new(src), slot)
    }

    /// Regular, visible files of the directory, sorted by name.
    fn list(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            if entry.file_type()?.is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
    }

    fn read_lines(&self, path: &Path, out: &mut Vec<String>) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read a new file; skipping it");
                return;
            }
        };
        for line in bytes.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(s) => out.push(s.to_string()),
                Err(_) => {
                    self.stats.malformed();
                    tracing::warn!(path = %path.display(), "skipping a line that is not UTF-8");
                }
            }
        }
        // A file ending in a newline has no empty last line.
        if (bytes.last() == Some(&b'\n') || bytes.is_empty())
            && out.last().is_some_and(String::is_empty)
        {
            out.pop();
        }
    }
}

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
        let mut lines = Vec::new();
        let mut taken = Vec::new();
        let mut seen = lock(&self.seen);
        for f in files {
            if seen.insert(f.clone()) {
                self.read_lines(&f, &mut lines);
                taken.push(f);
            }
        }
        *lock(&self.last_cut) = (time, taken);
        self.slot.put(time, lines)
    }

    fn stop(&self) {}

    fn block_record(&self, time: Time) -> Vec<u8> {
        let last = lock(&self.last_cut);
        let files: Vec<String> = if last.0 == time {
            last.1
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        } else {
            Vec::new()
        };
        crate::checkpoint::store::to_bytes(&files).unwrap_or_default()
    }

    fn replay(&self, time: Time, record: &[u8]) -> crate::Result<usize> {
        let files: Vec<String> = crate::checkpoint::store::from_bytes(record)?;
        let mut lines = Vec::new();
        let mut seen = lock(&self.seen);
        for f in files {
            let path = PathBuf::from(f);
            self.read_lines(&path, &mut lines);
            seen.insert(path);
        }
        Ok(self.slot.put(time, lines))
    }

    fn position(&self) -> crate::Result<Vec<u8>> {
        let mut seen: Vec<String> = lock(&self.seen)
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        seen.sort();
        crate::checkpoint::store::to_bytes(&seen)
    }

    fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        let seen: Vec<String> = crate::checkpoint::store::from_bytes(position)?;
        *lock(&self.seen) = seen.into_iter().map(PathBuf::from).collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_new_visible_files_once() {
        let dir = std::env::temp_dir().join(format!("rill-file-src-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("old.txt"), "old\n").unwrap();
        let (src, slot) = FileSource::new(&dir, Arc::default(), 1);
        src.start().unwrap();
        std::fs::write(dir.join("a.txt"), "x y\nz\n").unwrap();
        std::fs::write(dir.join(".hidden"), "no\n").unwrap();
        std::fs::write(dir.join("b.txt"), b"ok\n\xff\nlast").unwrap();
        assert_eq!(src.cut(Time(1000)), 4);
        assert_eq!(slot.take(Time(1000)), vec![vec!["x y", "z", "ok", "last"]]);
        assert_eq!(src.cut(Time(2000)), 0);
        assert_eq!(src.stats.malformed_count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
