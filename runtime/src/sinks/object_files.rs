//! `save_as_text_files("s3://bucket/prefix", suffix)`: one "directory" of objects per
//! batch, `prefix-<ms>.suffix/part-NNNNN` (one per partition, one record (`Debug`) per
//! line) and an empty `_SUCCESS`, named as Spark's `rddToFileName`, as the local
//! `save_as_text_files` writes them (`sinks/text_files.rs`).
//!
//! An object store has no directories and no atomic rename, so the batch's directory
//! cannot be swapped in one step as a local one is. Instead `_SUCCESS` is written last,
//! after every part: a reader takes a directory without `_SUCCESS` as incomplete (as
//! Hadoop's and Spark's readers of committed output do). A batch written again (a batch
//! recomputed after a recovery) first deletes its `_SUCCESS`, then overwrites its parts
//! (each PUT replaces an object whole), deletes parts an earlier write had and this one
//! has not (fewer partitions), and writes `_SUCCESS` again. A reader that listed the
//! directory while the old `_SUCCESS` was there may read a mix of old and new parts
//! during such a rewrite; one that finds `_SUCCESS` after the rewrite reads the new
//! batch, complete.

use crate::store::objects::Prefix;
use crate::{Error, Partition, Time};
use std::fmt::Debug;
use std::io::Write;

/// The writer of `save_as_text_files` to an object store prefix.
pub struct ObjectTextFiles {
    objects: Prefix,
    /// The name's stem after the prefix's last `/` (`words` of `s3://b/out/words`).
    stem: String,
    /// The URL names the bucket only: directories are named `<ms>`.
    bare: bool,
    /// The keys' directory under the client's prefix (`out` of `s3://b/out/words`).
    parent: String,
    suffix: String,
}

impl ObjectTextFiles {
    /// A writer of `url` (`s3://bucket/dir/stem`) with `suffix`: batch directories
    /// `dir/stem-<ms>.suffix/` in `bucket` (`dir/-<ms>` for `s3://bucket/dir/`, as
    /// Spark's `prefix + "-" + ms`; `<ms>` for `s3://bucket`).
    pub fn new(url: &str, bucket: &str, suffix: &str) -> crate::Result<Self> {
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let key = after_scheme.split_once('/').map_or("", |(_, key)| key);
        let (parent, stem) = key.rsplit_once('/').unwrap_or(("", key));
        let base = url.strip_suffix(stem).unwrap_or(url);
        Ok(ObjectTextFiles {
            objects: Prefix::open(base, bucket, parent)?,
            stem: stem.to_string(),
            bare: key.is_empty(),
            parent: parent.to_string(),
            suffix: suffix.to_string(),
        })
    }

    /// The directory name of the batch at `time`, as Spark's `rddToFileName`.
    pub fn dir_name(&self, time: Time) -> String {
        let ms = time.millis();
        let mut name = if self.bare {
            ms.to_string()
        } else {
            format!("{}-{ms}", self.stem)
        };
        if !self.suffix.is_empty() {
            name = format!("{name}.{}", self.suffix);
        }
        name
    }

    /// The key prefix of the batch at `time`, in its bucket.
    pub fn key_prefix(&self, time: Time) -> String {
        if self.parent.is_empty() {
            self.dir_name(time)
        } else {
            format!("{}/{}", self.parent, self.dir_name(time))
        }
    }

    /// Writes the batch at `time`: its parts, then `_SUCCESS` (see the module's
    /// documentation). A request that fails after its retries is an
    /// [`Error::ObjectStore`].
    pub fn write_batch<T: Debug, P: Partition<T>>(
        &self,
        time: Time,
        parts: &[P],
    ) -> crate::Result<()> {
        let dir = self.dir_name(time);
        let success = format!("{dir}/_SUCCESS");
        let before = self.objects.list(&dir)?;
        if before.iter().any(|o| o.key == success) {
            self.objects.delete(&success)?;
        }
        let mut objects = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let mut data = Vec::new();
            for r in part.records() {
                writeln!(data, "{r:?}").map_err(|e| Error::io("cannot format a record", e))?;
            }
            objects.push((format!("{dir}/part-{i:05}"), data));
        }
        let stale: Vec<String> = before
            .into_iter()
            .map(|o| o.key)
            .filter(|k| *k != success && !objects.iter().any(|(key, _)| key == k))
            .collect();
        self.objects.put_all(objects)?;
        for key in stale {
            self.objects.delete(&key)?;
        }
        self.objects.put(&success, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rdd_to_file_name() {
        let w = ObjectTextFiles::new("s3://b/out/words", "b", "txt").unwrap();
        assert_eq!(w.dir_name(Time(1000)), "words-1000.txt");
        assert_eq!(w.key_prefix(Time(1000)), "out/words-1000.txt");
        let top = ObjectTextFiles::new("s3://b/w", "b", "").unwrap();
        assert_eq!(top.key_prefix(Time(5)), "w-5");
        let slash = ObjectTextFiles::new("s3://b/out/", "b", "").unwrap();
        assert_eq!(slash.key_prefix(Time(5)), "out/-5");
        let bare = ObjectTextFiles::new("s3://b", "b", "").unwrap();
        assert_eq!(bare.key_prefix(Time(5)), "5");
    }
}
