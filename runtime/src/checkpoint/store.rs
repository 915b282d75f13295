//! The checkpoint directory: snapshots written atomically and checksummed, the last two
//! kept, and a log of every batch's inputs since the oldest kept snapshot.
//!
//! A snapshot file is `checkpoint-<time ms, 20 digits>`: written to a temporary name,
//! flushed to disk, renamed, and the directory flushed, so a crash leaves either the old
//! or the new file, never half of one. Reading takes the newest file that decodes and
//! whose checksum holds, warning about each damaged one it skips.
//!
//! With the `object-store` feature the directory can be an `s3://bucket/prefix` URL: the
//! same snapshots and log entries are then objects, made atomic by conditional puts
//! instead of renames (`checkpoint/objects.rs`). [`CheckpointStore`] hides which.

use super::frame::{FrameError, decode, encode};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const SNAPSHOT_MAGIC: &[u8; 8] = b"RILLCKP1";
const LOG_MAGIC: &[u8; 8] = b"RILLBAT2";
const LOG_FILE: &str = "batches.log";
/// Snapshots kept; older ones are deleted after a new one is written.
pub const KEPT_SNAPSHOTS: usize = 2;

/// Everything needed to resume a job: the state of every stateful operator and where
/// every source was, at the end of the batch at `time_ms`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Fingerprint of the pipelines that wrote it.
    pub fingerprint: u64,
    /// The batch it was taken after.
    pub time_ms: u64,
    /// The clock's zero time (windows slide relative to it).
    pub zero_ms: u64,
    /// `(state id, encoded state)`.
    pub states: Vec<(String, Vec<u8>)>,
    /// `(source id, encoded position)`.
    pub sources: Vec<(String, Vec<u8>)>,
}

/// What each source took into one batch, so the batch can be recomputed exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// The batch time.
    pub time_ms: u64,
    /// `(source id, encoded description of its block)`.
    pub sources: Vec<(String, Vec<u8>)>,
}

/// A batch of the log, and whether its outputs completed before the log was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedBatch {
    /// What the batch took from its sources.
    pub record: BatchRecord,
    /// Every output of the batch completed: a recovery recomputes its state only.
    pub completed: bool,
}

/// One entry of the batch log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum LogEntry {
    /// A batch was cut (written and flushed before the batch runs).
    Cut(BatchRecord),
    /// The outputs of the batch at this time completed.
    Done(u64),
}

/// The batch log as read: its batches and whether a damaged tail was cut off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchLog {
    /// The logged batches, in order.
    pub batches: Vec<LoggedBatch>,
    /// Bytes after the last whole entry that do not decode (a crash cut an append).
    pub damaged_tail: bool,
}

/// Encodes a value for a snapshot or a log record.
pub fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| Error::Checkpoint(format!("cannot encode state: {e}")))
}

/// Decodes a value written by [`to_bytes`].
///
/// A length field claims memory before its bytes are read, so a damaged or hostile
/// length (a checksum only proves the bytes are as written) could ask for 2^60 bytes and
/// abort the process. Claims are bounded by 64 times the input's size (at least 1 MiB):
/// more than any value encoded from real data needs, and a clear error otherwise.
pub fn from_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let want = bytes.len().saturating_mul(64).max(1 << 20);
    macro_rules! limited {
        ($($bits:literal)*) => {
            match want.next_power_of_two().trailing_zeros() {
                $($bits => decode_limited::<T, { 1usize << $bits }>(bytes),)*
                _ => decode_limited::<T, { usize::MAX }>(bytes),
            }
        };
    }
    limited!(20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40)
}

fn decode_limited<T: serde::de::DeserializeOwned, const LIMIT: usize>(bytes: &[u8]) -> Result<T> {
    let config = bincode::config::standard().with_limit::<LIMIT>();
    bincode::serde::decode_from_slice(bytes, config)
        .map(|(v, _)| v)
        .map_err(|e| Error::Checkpoint(format!("cannot decode state: {e}")))
}

fn io(what: impl Into<String>, e: std::io::Error) -> Error {
    Error::io(what, e)
}

/// A checkpoint directory: a local directory, or (with the `object-store` feature) a
/// prefix in an object store.
pub struct CheckpointStore {
    dir: PathBuf,
    #[cfg_attr(not(feature = "object-store"), allow(dead_code))]
    backend: Backend,
}

/// Where a checkpoint directory's files are.
enum Backend {
    /// In the local directory `dir`, atomic by rename.
    Dir,
    /// Objects under a prefix, atomic by conditional puts.
    #[cfg(feature = "object-store")]
    Objects(super::objects::ObjectCheckpoint),
}

impl CheckpointStore {
    /// Opens (creating if needed) a checkpoint directory: a path, a `file://` URL or,
    /// with the `object-store` feature, an `s3://bucket/prefix` URL.
    pub fn open(dir: impl AsRef<Path>) -> Result<CheckpointStore> {
        let dir = match crate::store::Location::parse(dir.as_ref())? {
            crate::store::Location::Local(dir) => dir,
            #[cfg(feature = "object-store")]
            crate::store::Location::Object {
                url,
                bucket,
                prefix,
            } => {
                let objects = super::objects::ObjectCheckpoint::open(&url, &bucket, &prefix)?;
                return Ok(CheckpointStore {
                    dir: dir.as_ref().to_path_buf(),
                    backend: Backend::Objects(objects),
                });
            }
            #[cfg(not(feature = "object-store"))]
            crate::store::Location::Object { url, .. } => {
                return Err(Error::Config(format!(
                    "{url}: object store URLs need rill's `object-store` feature"
                )));
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| {
            io(
                format!("cannot create checkpoint directory {}", dir.display()),
                e,
            )
        })?;
        Ok(CheckpointStore {
            dir,
            backend: Backend::Dir,
        })
    }

    /// The directory (an object store's URL as a path).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Snapshot files, oldest first.
    fn snapshots(&self) -> Result<Vec<(u64, PathBuf)>> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            let snaps = o.snapshots()?;
            return Ok(snaps
                .into_iter()
                .map(|(t, name)| (t, self.dir.join(name)))
                .collect());
        }
        let mut out = Vec::new();
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| io(format!("cannot read {}", self.dir.display()), e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(t) = name
                .strip_prefix("checkpoint-")
                .and_then(|t| t.parse::<u64>().ok())
            {
                out.push((t, entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Writes `snap` atomically, then keeps only the newest [`KEPT_SNAPSHOTS`] and the
    /// log records after the oldest of them.
    pub fn write(&self, snap: &Snapshot) -> Result<()> {
        let data = encode(SNAPSHOT_MAGIC, &to_bytes(snap)?);
        let name = format!("checkpoint-{:020}", snap.time_ms);
        match &self.backend {
            Backend::Dir => write_atomically(&self.dir, &name, &data)?,
            #[cfg(feature = "object-store")]
            Backend::Objects(o) => o.write_snapshot(&name, data)?,
        }
        let all = self.snapshots()?;
        if all.len() > KEPT_SNAPSHOTS {
            for (_, path) in &all[..all.len() - KEPT_SNAPSHOTS] {
                if let Err(e) = self.delete_snapshot(path) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot delete an old checkpoint");
                }
            }
        }
        let oldest = all[all.len().saturating_sub(KEPT_SNAPSHOTS)].0;
        self.compact_log(oldest)
    }

    fn delete_snapshot(&self, path: &Path) -> Result<()> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            return o.delete(&name.unwrap_or_default());
        }
        std::fs::remove_file(path).map_err(|e| io(format!("cannot delete {}", path.display()), e))
    }

    fn read_snapshot(&self, path: &Path) -> std::result::Result<Snapshot, String> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            return decode_snapshot(&o.read(&name.unwrap_or_default())?);
        }
        read_snapshot(path)
    }

    /// Every snapshot, newest first, each decoded or with why it does not decode.
    pub fn candidates(&self) -> Result<Vec<(PathBuf, std::result::Result<Snapshot, String>)>> {
        Ok(self
            .snapshots()?
            .into_iter()
            .rev()
            .map(|(_, path)| {
                let snap = self.read_snapshot(&path);
                (path, snap)
            })
            .collect())
    }

    /// The newest valid snapshot, skipping (with a warning) damaged ones; an error when
    /// snapshots exist but none is valid.
    pub fn latest(&self) -> Result<Option<Snapshot>> {
        let mut damaged = Vec::new();
        for (path, snap) in self.candidates()? {
            match snap {
                Ok(s) => {
                    for d in &damaged {
                        tracing::warn!(path = %d, "skipped a damaged checkpoint; recovering from an older one");
                    }
                    return Ok(Some(s));
                }
                Err(e) => damaged.push(format!("{} ({e})", path.display())),
            }
        }
        if damaged.is_empty() {
            Ok(None)
        } else {
            Err(Error::Checkpoint(format!(
                "no valid checkpoint in {}: {}",
                self.dir.display(),
                damaged.join(", ")
            )))
        }
    }

    /// Whether the directory holds a snapshot, a batch log or a write-ahead log.
    pub fn has_data(&self) -> Result<bool> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            return o.has_data();
        }
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| io(format!("cannot read {}", self.dir.display()), e))?;
        Ok(entries
            .flatten()
            .any(|e| run_file(&e.file_name().to_string_lossy())))
    }

    /// Deletes the snapshots, the batch log and the write-ahead logs of an earlier run.
    pub fn clear(&self) -> Result<()> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            return o.clear();
        }
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| io(format!("cannot read {}", self.dir.display()), e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if run_file(&name) {
                std::fs::remove_file(entry.path())
                    .map_err(|e| io(format!("cannot delete {}", entry.path().display()), e))?;
            }
        }
        Ok(())
    }

    /// Appends a batch record to the log and flushes it to disk (before the batch runs).
    pub fn log_batch(&self, record: &BatchRecord) -> Result<()> {
        self.append(&LogEntry::Cut(record.clone()), true)
    }

    /// Records that every output of the batch at `time_ms` completed. Not flushed on its
    /// own: the next cut's flush carries it, and a crash of the machine (not only of the
    /// process) before then repeats the batch's outputs, which is at-least-once.
    pub fn log_done(&self, time_ms: u64) -> Result<()> {
        self.append(&LogEntry::Done(time_ms), false)
    }

    fn append(&self, entry: &LogEntry, flush: bool) -> Result<()> {
        let data = encode(LOG_MAGIC, &to_bytes(entry)?);
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            // Every entry is an object, durable once written: `flush` holds for all.
            let _ = flush;
            return match entry {
                LogEntry::Cut(r) => o.append(r.time_ms, false, data),
                LogEntry::Done(t) => o.append(*t, true, data),
            };
        }
        let path = self.dir.join(LOG_FILE);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(format!("cannot open {}", path.display()), e))?;
        f.write_all(&data)
            .map_err(|e| io(format!("cannot append to {}", path.display()), e))?;
        if flush {
            f.sync_data()
                .map_err(|e| io(format!("cannot sync {}", path.display()), e))?;
        }
        Ok(())
    }

    /// The logged batch records, in order, each marked completed or not. A damaged tail
    /// (an entry cut short by a crash) ends the log with a warning.
    pub fn logged_batches(&self) -> Result<Vec<LoggedBatch>> {
        Ok(self.read_log()?.batches)
    }

    /// The batch log with a note of a damaged tail.
    pub fn read_log(&self) -> Result<BatchLog> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            return Ok(decode_log(&o.read_log()?));
        }
        let path = self.dir.join(LOG_FILE);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BatchLog::default()),
            Err(e) => return Err(io(format!("cannot read {}", path.display()), e)),
        };
        Ok(decode_log(&data))
    }

    /// Cuts a damaged tail off the log, so entries appended from now on follow the last
    /// whole one (appended behind damaged bytes, the next recovery could not read them).
    pub fn repair_log(&self) -> Result<()> {
        let log = self.read_log()?;
        if log.damaged_tail {
            tracing::warn!(dir = %self.dir.display(), "the batch log ended in a damaged entry; it is cut off");
            self.rewrite_log(&log.batches)?;
        }
        Ok(())
    }

    /// Rewrites the log without the records at or before `oldest_ms`.
    fn compact_log(&self, oldest_ms: u64) -> Result<()> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            return o.compact_log(oldest_ms);
        }
        let kept: Vec<LoggedBatch> = self
            .logged_batches()?
            .into_iter()
            .filter(|r| r.record.time_ms > oldest_ms)
            .collect();
        self.rewrite_log(&kept)
    }

    fn rewrite_log(&self, batches: &[LoggedBatch]) -> Result<()> {
        #[cfg(feature = "object-store")]
        if let Backend::Objects(o) = &self.backend {
            // The kept entries are objects already: delete the others.
            let kept: Vec<(u64, bool)> = batches
                .iter()
                .flat_map(|b| {
                    let t = b.record.time_ms;
                    std::iter::once((t, false)).chain(b.completed.then_some((t, true)))
                })
                .collect();
            return o.keep_entries(&kept);
        }
        let mut data = Vec::new();
        for b in batches {
            data.extend(encode(
                LOG_MAGIC,
                &to_bytes(&LogEntry::Cut(b.record.clone()))?,
            ));
            if b.completed {
                data.extend(encode(
                    LOG_MAGIC,
                    &to_bytes(&LogEntry::Done(b.record.time_ms))?,
                ));
            }
        }
        write_atomically(&self.dir, LOG_FILE, &data)
    }
}

/// Whether a file name is one a run writes in its checkpoint directory.
fn run_file(name: &str) -> bool {
    name.starts_with("checkpoint-")
        || name == LOG_FILE
        || (name.starts_with("wal-") && name.ends_with(".log"))
}

/// Decodes the entries of a batch log up to the first damaged one.
pub fn decode_log(mut data: &[u8]) -> BatchLog {
    let mut log = BatchLog::default();
    while !data.is_empty() {
        match decode(LOG_MAGIC, data)
            .map_err(|e| e.to_string())
            .and_then(|(payload, used)| {
                from_bytes::<LogEntry>(payload)
                    .map(|r| (r, used))
                    .map_err(|e| e.to_string())
            }) {
            Ok((entry, used)) => {
                match entry {
                    LogEntry::Cut(record) => log.batches.push(LoggedBatch {
                        record,
                        completed: false,
                    }),
                    LogEntry::Done(t) => {
                        if let Some(b) =
                            log.batches.iter_mut().rev().find(|b| b.record.time_ms == t)
                        {
                            b.completed = true;
                        }
                    }
                }
                data = &data[used..];
            }
            Err(e) => {
                tracing::warn!(error = %e, bytes = data.len(), "the batch log ends in a damaged entry; ignoring it");
                log.damaged_tail = true;
                break;
            }
        }
    }
    log
}

/// Decodes a snapshot file's contents.
pub fn decode_snapshot(data: &[u8]) -> std::result::Result<Snapshot, String> {
    let (payload, used) = decode(SNAPSHOT_MAGIC, data).map_err(|e: FrameError| e.to_string())?;
    if used != data.len() {
        return Err("trailing bytes after the snapshot".into());
    }
    from_bytes(payload).map_err(|e| e.to_string())
}

fn read_snapshot(path: &Path) -> std::result::Result<Snapshot, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    decode_snapshot(&data)
}

/// Writes `data` to `dir/name` through a temporary file, fsync, rename and a directory
/// fsync.
fn write_atomically(dir: &Path, name: &str, data: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let mut f =
        File::create(&tmp).map_err(|e| io(format!("cannot create {}", tmp.display()), e))?;
    f.write_all(data)
        .map_err(|e| io(format!("cannot write {}", tmp.display()), e))?;
    f.sync_all()
        .map_err(|e| io(format!("cannot sync {}", tmp.display()), e))?;
    drop(f);
    std::fs::rename(&tmp, &target)
        .map_err(|e| io(format!("cannot rename {}", tmp.display()), e))?;
    sync_dir(dir)
}

/// Flushes a directory's entries (a rename is durable only once its directory is).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(format!("cannot sync the directory {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rill-ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn snap(t: u64) -> Snapshot {
        Snapshot {
            fingerprint: 7,
            time_ms: t,
            states: vec![("s".into(), vec![1, 2, t as u8])],
            sources: vec![],
            ..Snapshot::default()
        }
    }

    #[test]
    fn keeps_the_last_two_and_falls_back_past_damage() {
        let d = dir("keep");
        let store = CheckpointStore::open(&d).unwrap();
        for t in [1000, 2000, 3000] {
            store.write(&snap(t)).unwrap();
        }
        let names: Vec<u64> = store
            .snapshots()
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(names, vec![2000, 3000]);
        assert_eq!(store.latest().unwrap(), Some(snap(3000)));
        // Truncate the newest: the older one is used.
        let newest = d.join(format!("checkpoint-{:020}", 3000));
        let data = std::fs::read(&newest).unwrap();
        std::fs::write(&newest, &data[..data.len() / 2]).unwrap();
        assert_eq!(store.latest().unwrap(), Some(snap(2000)));
        // Corrupt the other too: a clear error, no panic.
        let older = d.join(format!("checkpoint-{:020}", 2000));
        let mut data = std::fs::read(&older).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xFF;
        std::fs::write(&older, data).unwrap();
        let e = store.latest().unwrap_err().to_string();
        assert!(
            e.contains("no valid checkpoint") && e.contains("checksum"),
            "{e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_log_survives_a_torn_record_and_is_compacted() {
        let d = dir("log");
        let store = CheckpointStore::open(&d).unwrap();
        for t in [1000, 2000, 3000] {
            store
                .log_batch(&BatchRecord {
                    time_ms: t,
                    sources: vec![("f".into(), vec![t as u8])],
                })
                .unwrap();
        }
        let path = d.join(LOG_FILE);
        let mut data = std::fs::read(&path).unwrap();
        data.extend_from_slice(&LOG_MAGIC[..5]);
        std::fs::write(&path, data).unwrap();
        assert_eq!(store.logged_batches().unwrap().len(), 3);
        store.write(&snap(1000)).unwrap();
        store.write(&snap(2000)).unwrap();
        let times: Vec<u64> = store
            .logged_batches()
            .unwrap()
            .iter()
            .map(|r| r.record.time_ms)
            .collect();
        assert_eq!(
            times,
            vec![2000, 3000],
            "records up to the oldest kept snapshot are dropped"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn record(t: u64) -> BatchRecord {
        BatchRecord {
            time_ms: t,
            sources: vec![("f".into(), vec![t as u8])],
        }
    }

    #[test]
    fn completed_batches_are_marked_and_survive_compaction() {
        let d = dir("done");
        let store = CheckpointStore::open(&d).unwrap();
        for t in [1000, 2000, 3000] {
            store.log_batch(&record(t)).unwrap();
            if t < 3000 {
                store.log_done(t).unwrap();
            }
        }
        let done = |s: &CheckpointStore| -> Vec<(u64, bool)> {
            s.logged_batches()
                .unwrap()
                .iter()
                .map(|b| (b.record.time_ms, b.completed))
                .collect()
        };
        assert_eq!(
            done(&store),
            vec![(1000, true), (2000, true), (3000, false)]
        );
        store.write(&snap(1000)).unwrap();
        assert_eq!(done(&store), vec![(2000, true), (3000, false)]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn entries_appended_after_a_torn_tail_are_read_once_it_is_repaired() {
        let d = dir("torn");
        let store = CheckpointStore::open(&d).unwrap();
        store.log_batch(&record(1000)).unwrap();
        let path = d.join(LOG_FILE);
        let mut data = std::fs::read(&path).unwrap();
        let whole = data.len();
        data.extend_from_slice(&encode(LOG_MAGIC, &to_bytes(&LogEntry::Done(1000)).unwrap())[..9]);
        std::fs::write(&path, data).unwrap();
        assert!(store.read_log().unwrap().damaged_tail);
        store.repair_log().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), whole);
        store.log_batch(&record(2000)).unwrap();
        let log = store.read_log().unwrap();
        assert!(!log.damaged_tail);
        assert_eq!(
            log.batches.len(),
            2,
            "the entry after the repair is readable"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_huge_length_with_a_valid_checksum_is_an_error_not_an_abort() {
        // A string whose length field claims 2^60 bytes, framed with a correct checksum.
        let mut payload = to_bytes(&snap(1000)).unwrap();
        payload.truncate(0);
        payload.extend([0u8, 0xE8, 0x03]); // fingerprint 0, time 1000 (varint)
        payload.push(0); // zero_ms
        payload.push(1); // one state
        payload.push(0xFD); // u64 length follows
        payload.extend((1u64 << 60).to_le_bytes());
        let data = encode(SNAPSHOT_MAGIC, &payload);
        let e = decode_snapshot(&data).unwrap_err();
        assert!(e.contains("decode"), "{e}");
        let e = from_bytes::<Vec<String>>(&[0xFD, 0, 0, 0, 0, 0, 0, 0, 0x10])
            .unwrap_err()
            .to_string();
        assert!(e.contains("decode"), "{e}");
    }

    #[test]
    fn decoders_never_panic_on_random_damage() {
        // A bounded fuzz run: random truncations and bit flips of valid files.
        let good = encode(SNAPSHOT_MAGIC, &to_bytes(&snap(5000)).unwrap());
        let mut log = Vec::new();
        for t in 0..4u64 {
            log.extend(encode(
                LOG_MAGIC,
                &to_bytes(&LogEntry::Cut(BatchRecord {
                    time_ms: t,
                    sources: vec![("x".into(), vec![1; t as usize])],
                }))
                .unwrap(),
            ));
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            for base in [&good, &log] {
                let mut data = base.clone();
                match next() % 3 {
                    0 => data.truncate((next() as usize) % (data.len() + 1)),
                    1 => {
                        let i = (next() as usize) % data.len();
                        data[i] ^= 1 << (next() % 8);
                    }
                    _ => data.extend((0..next() % 16).map(|_| next() as u8)),
                }
                let _ = decode_snapshot(&data);
                let records = decode_log(&data);
                assert!(records.batches.len() <= 4);
            }
        }
    }
}
