//! The checkpoint directory in an object store (`checkpoint_dir("s3://bucket/prefix")`):
//! the same snapshots and batch log as a local directory, as objects under the prefix.
//!
//! An object store has no rename and no append, so:
//!
//! - a snapshot `checkpoint-<time ms, 20 digits>` is written with one conditional put
//!   (`If-None-Match: *`, object_store's `PutMode::Create`): a PUT is atomic (readers see
//!   the whole object or none), and the condition keeps two runs from overwriting each
//!   other's snapshot unnoticed. A snapshot of the same batch written again (a batch
//!   recomputed after its snapshot was found damaged) replaces the old one only if it is
//!   still the version just read (`If-Match` on its ETag);
//! - each entry of the batch log is an object of its own,
//!   `batches/<time ms, 20 digits>.cut` or `.done`, written with a conditional put before
//!   the batch runs (a successful PUT is durable). Reading the log lists them in key
//!   order, which is the order they were written in, and decodes them as the local
//!   log's bytes, so a damaged entry ends the log as a torn append does there;
//!   compaction deletes the entries at or before the oldest kept snapshot.
//!
//! Receivers' write-ahead logs are not kept here: they append and sync every block,
//! which an object store cannot do at that rate, so a context with an object store
//! checkpoint refuses `write_ahead_log(true)`.

use crate::store::objects::{Object, Prefix};
use crate::{Error, Result};

/// Where the batch log's entries are, under the prefix.
const LOG_DIR: &str = "batches";

/// A checkpoint prefix in an object store.
pub(crate) struct ObjectCheckpoint {
    objects: Prefix,
}

/// An entry object of the batch log: its batch time and whether it is a `Done` marker.
fn log_entry(key: &str) -> Option<(u64, bool)> {
    let name = key.strip_prefix(LOG_DIR)?.strip_prefix('/')?;
    let (time, kind) = name.split_once('.')?;
    let time = time.parse().ok()?;
    match kind {
        "cut" => Some((time, false)),
        "done" => Some((time, true)),
        _ => None,
    }
}

/// The key of a log entry of the batch at `time_ms`.
pub(crate) fn log_key(time_ms: u64, done: bool) -> String {
    let kind = if done { "done" } else { "cut" };
    format!("{LOG_DIR}/{time_ms:020}.{kind}")
}

/// Whether a key under the prefix is one a run writes.
fn run_object(key: &str) -> bool {
    key.starts_with("checkpoint-")
        || log_entry(key).is_some()
        || (key.starts_with("wal-") && key.ends_with(".log"))
}

impl ObjectCheckpoint {
    /// The checkpoint prefix of `url` (nothing is requested yet).
    pub(crate) fn open(url: &str, bucket: &str, prefix: &str) -> Result<ObjectCheckpoint> {
        Ok(ObjectCheckpoint {
            objects: Prefix::open(url, bucket, prefix)?,
        })
    }

    /// The URL.
    pub(crate) fn url(&self) -> &str {
        self.objects.url()
    }

    /// Snapshot objects, oldest first: `(time, name)`.
    pub(crate) fn snapshots(&self) -> Result<Vec<(u64, String)>> {
        let mut out: Vec<(u64, String)> = self
            .objects
            .list_dir("")?
            .into_iter()
            .filter_map(|o| {
                let t = o.key.strip_prefix("checkpoint-")?.parse::<u64>().ok()?;
                Some((t, o.key))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The bytes of snapshot `name`.
    pub(crate) fn read(&self, name: &str) -> std::result::Result<Vec<u8>, String> {
        match self.objects.get(name) {
            Ok(Some(data)) => Ok(data),
            Ok(None) => Err("deleted while being read".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Writes snapshot `name` with a conditional put (see the module's documentation).
    pub(crate) fn write_snapshot(&self, name: &str, data: Vec<u8>) -> Result<()> {
        if self.objects.put_new(name, data.clone())? {
            return Ok(());
        }
        // The batch's snapshot exists: replace it if nobody changes it meanwhile.
        let replaced = match self.objects.head(name)? {
            Some(Object {
                e_tag: Some(tag), ..
            }) => self.objects.put_if(name, data, &tag)?,
            Some(_) => {
                self.objects.put(name, data)?;
                true
            }
            None => self.objects.put_new(name, data)?,
        };
        if replaced {
            Ok(())
        } else {
            Err(Error::Checkpoint(format!(
                "{}/{name} changed while it was being replaced; is another run writing to {}?",
                self.url(),
                self.url()
            )))
        }
    }

    /// Deletes snapshot `name`.
    pub(crate) fn delete(&self, name: &str) -> Result<()> {
        self.objects.delete(name)
    }

    /// Whether the prefix holds a snapshot or a batch log entry.
    pub(crate) fn has_data(&self) -> Result<bool> {
        Ok(self.objects.list("")?.iter().any(|o| run_object(&o.key)))
    }

    /// Deletes the snapshots and the batch log of an earlier run.
    pub(crate) fn clear(&self) -> Result<()> {
        for o in self.objects.list("")? {
            if run_object(&o.key) {
                self.objects.delete(&o.key)?;
            }
        }
        Ok(())
    }

    /// Writes a log entry of the batch at `time_ms` (`data`, framed as in a local log).
    /// A cut logged again (the clock cut live a time the log already had) replaces the
    /// old one and drops its completion marker; a `Done` written twice is one.
    pub(crate) fn append(&self, time_ms: u64, done: bool, data: Vec<u8>) -> Result<()> {
        let key = log_key(time_ms, done);
        if self.objects.put_new(&key, data.clone())? || done {
            return Ok(());
        }
        self.objects.delete(&log_key(time_ms, true))?;
        self.objects.put(&key, data)
    }

    /// The log entries' bytes, in order, concatenated as a local log file holds them.
    pub(crate) fn read_log(&self) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        for o in self.entries()? {
            // An entry deleted between the listing and here (a compaction) is gone.
            if let Some(bytes) = self.objects.get(&o.key)? {
                data.extend(bytes);
            }
        }
        Ok(data)
    }

    /// The log's entry objects, in order.
    fn entries(&self) -> Result<Vec<Object>> {
        let mut entries: Vec<Object> = self
            .objects
            .list(LOG_DIR)?
            .into_iter()
            .filter(|o| log_entry(&o.key).is_some())
            .collect();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(entries)
    }

    /// Keeps only the entries of `kept` (time, done) and deletes every other one.
    pub(crate) fn keep_entries(&self, kept: &[(u64, bool)]) -> Result<()> {
        for o in self.entries()? {
            if log_entry(&o.key).is_some_and(|e| !kept.contains(&e)) {
                self.objects.delete(&o.key)?;
            }
        }
        Ok(())
    }

    /// Deletes the entries of batches at or before `oldest_ms`.
    pub(crate) fn compact_log(&self, oldest_ms: u64) -> Result<()> {
        for o in self.entries()? {
            if log_entry(&o.key).is_some_and(|(t, _)| t <= oldest_ms) {
                self.objects.delete(&o.key)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keys_sort_in_writing_order_and_parse_back() {
        let mut keys = vec![
            log_key(10_000, false),
            log_key(2_000, true),
            log_key(2_000, false),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                "batches/00000000000000002000.cut",
                "batches/00000000000000002000.done",
                "batches/00000000000000010000.cut"
            ]
        );
        assert_eq!(log_entry(&keys[1]), Some((2000, true)));
        assert_eq!(log_entry("batches/x.cut"), None);
        assert!(run_object("checkpoint-00000000000000001000"));
        assert!(!run_object("out-1000/part-00000"));
    }
}
