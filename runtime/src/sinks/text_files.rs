//! `save_as_text_files(prefix, suffix)`: one directory per batch, `prefix-<ms>.suffix`
//! (`prefix-<ms>` for an empty suffix, `<ms>` for an empty prefix, as Spark's
//! `rddToFileName`), a `part-NNNNN` file per partition with one record (`Debug`) per line,
//! and an empty `_SUCCESS` marker. The directory is written under a temporary name and
//! renamed, so a reader never sees half a batch; a batch written again replaces its
//! directory.

use crate::{Error, Partition, Time};
use std::fmt::Debug;
use std::io::Write;
use std::path::PathBuf;

/// The directory writer of one `save_as_text_files` output.
pub struct TextFiles {
    prefix: String,
    suffix: String,
}

impl TextFiles {
    /// An output writing `prefix-<ms>.suffix` directories.
    pub fn new(prefix: impl Into<String>, suffix: impl Into<String>) -> TextFiles {
        TextFiles {
            prefix: prefix.into(),
            suffix: suffix.into(),
        }
    }

    /// The directory name of the batch at `time`, as Spark's `rddToFileName`.
    pub fn dir_name(&self, time: Time) -> PathBuf {
        let ms = time.millis();
        let mut name = if self.prefix.is_empty() {
            ms.to_string()
        } else {
            format!("{}-{ms}", self.prefix)
        };
        if !self.suffix.is_empty() {
            name = format!("{name}.{}", self.suffix);
        }
        PathBuf::from(name)
    }

    /// Writes the batch at `time`.
    pub fn write<T: Debug, P: Partition<T>>(&self, time: Time, parts: &[P]) -> crate::Result<()> {
        let dir = self.dir_name(time);
        let file_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| time.millis().to_string());
        // One temporary name per directory: a run that died half-way leaves it behind,
        // and the batch written again clears it.
        let tmp = dir.with_file_name(format!(".{file_name}.tmp"));
        let io = |what: &str, e| Error::io(format!("{what} {}", tmp.display()), e);
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io("cannot clear", e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| io("cannot create", e))?;
        for (i, part) in parts.iter().enumerate() {
            let path = tmp.join(format!("part-{i:05}"));
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(&path).map_err(|e| io("cannot write in", e))?,
            );
            for r in part.records() {
                writeln!(w, "{r:?}").map_err(|e| io("cannot write in", e))?;
            }
            w.into_inner()
                .map_err(|e| io("cannot write in", e.into_error()))?
                .sync_all()
                .map_err(|e| io("cannot sync in", e))?;
        }
        std::fs::File::create(tmp.join("_SUCCESS")).map_err(|e| io("cannot write in", e))?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot replace {}", dir.display()), e))?;
        }
        std::fs::rename(&tmp, &dir).map_err(|e| {
            Error::io(
                format!("cannot rename {} to {}", tmp.display(), dir.display()),
                e,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rdd_to_file_name() {
        assert_eq!(
            TextFiles::new("out", "txt").dir_name(Time(1000)),
            PathBuf::from("out-1000.txt")
        );
        assert_eq!(
            TextFiles::new("out", "").dir_name(Time(1000)),
            PathBuf::from("out-1000")
        );
        assert_eq!(
            TextFiles::new("", "").dir_name(Time(2000)),
            PathBuf::from("2000")
        );
        assert_eq!(
            TextFiles::new("d/x", "").dir_name(Time(5)),
            PathBuf::from("d/x-5")
        );
    }

    #[test]
    fn writes_parts_and_replaces_atomically() {
        let base = std::env::temp_dir().join(format!("rill-text-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let out = TextFiles::new(base.join("w").to_string_lossy(), "txt");
        out.write(Time(1000), &[vec![1, 2], vec![3]]).unwrap();
        let dir = base.join("w-1000.txt");
        assert_eq!(
            std::fs::read_to_string(dir.join("part-00000")).unwrap(),
            "1\n2\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("part-00001")).unwrap(),
            "3\n"
        );
        assert!(dir.join("_SUCCESS").exists());
        out.write(Time(1000), &[vec![9]]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("part-00000")).unwrap(),
            "9\n"
        );
        assert!(!dir.join("part-00001").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
