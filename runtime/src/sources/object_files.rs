//! `text_file_stream("s3://bucket/prefix/")`: the lines of objects that appear under a
//! prefix of an object store after start, each read once, with the semantics of the
//! local `text_file_stream` (`sources/file.rs`) and Spark's `FileInputDStream`:
//!
//! - the clock's cut only lists the prefix (its direct objects, not those under deeper
//!   `/`-separated prefixes, as Spark reads no nested directories); an object is new if
//!   its last-modified time (the store's clock) is within the remember window (60 s by
//!   default) and it was not selected before. Names starting with `.` or `_` are skipped.
//!   An object is written whole by one PUT, so it is complete when listed;
//! - the objects are read when the batch runs, in parallel on the workers;
//! - the batch log records each batch's objects with their last-modified times, and the
//!   snapshot the objects remembered within the window, so a recovered job reads the
//!   same objects again for a recomputed batch.
//!
//! Requests go through [`Prefix`], which retries a failing one a few times: a listing or
//! a read that still fails fails its batch with [`Error::ObjectStore`](crate::Error),
//! which stops the context (a recovered job then recomputes the batch). An object deleted
//! between the listing and the read is skipped with a warning, as a vanished file is.

use super::file::lines_of;
use super::{Slot, SourceControl, SourceStats};
use crate::checkpoint::store::{from_bytes, to_bytes};
use crate::store::objects::Prefix;
use crate::sync::lock;
use crate::{Batch, Error, Parts, Time, split_even};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Objects with their last-modified times (ms): what a batch took, what is remembered.
type Taken = Vec<(String, u64)>;

/// A source reading the new objects under a prefix at every batch.
pub struct ObjectFileSource {
    url: String,
    bucket: String,
    prefix: String,
    /// The client, opened by `start()`.
    objects: OnceLock<Arc<Prefix>>,
    remember_ms: u64,
    /// Objects selected within the remember window, with their last-modified times.
    seen: Mutex<HashMap<String, u64>>,
    last_cut: Mutex<(Time, Taken)>,
    slot: Arc<Slot<String>>,
    stats: Arc<SourceStats>,
}

impl ObjectFileSource {
    /// A source watching the prefix `prefix` of `bucket` (`url` as the user wrote it)
    /// that remembers selected objects for `remember`; returns the source and its slot.
    pub fn new(
        url: &str,
        bucket: &str,
        prefix: &str,
        remember: Duration,
        stats: Arc<SourceStats>,
        partitions: usize,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let slot = Arc::new(Slot::new(partitions));
        let src = ObjectFileSource {
            url: url.to_string(),
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            objects: OnceLock::new(),
            remember_ms: remember.as_millis() as u64,
            seen: Mutex::new(HashMap::new()),
            last_cut: Mutex::new((Time(0), Vec::new())),
            slot: slot.clone(),
            stats,
        };
        (Arc::new(src), slot)
    }

    /// The client; an error before `start()` opened it.
    fn objects(&self) -> crate::Result<Arc<Prefix>> {
        self.objects
            .get()
            .cloned()
            .ok_or_else(|| Error::State(format!("text_file_stream({}) is not started", self.url)))
    }

    /// The visible objects directly under the prefix, with their last-modified times.
    fn list(&self) -> crate::Result<Taken> {
        Ok(self
            .objects()?
            .list_dir("")?
            .into_iter()
            .filter(|o| !o.key.is_empty() && !o.key.starts_with('.') && !o.key.starts_with('_'))
            .map(|o| (o.key, o.modified_ms))
            .collect())
    }

    /// Objects older than this were selected already or are too old to be new.
    fn threshold(&self) -> u64 {
        crate::time::now_ms().saturating_sub(self.remember_ms)
    }

    /// Objects `batch` reads: its partitions are filled when the batch runs.
    fn read_later(&self, time: Time, taken: &Taken) -> crate::Result<()> {
        let objects = self.objects()?;
        let keys: Vec<String> = taken.iter().map(|(k, _)| k.clone()).collect();
        let stats = self.stats.clone();
        self.slot.put_deferred(
            time,
            Box::new(move |batch: &Batch<'_>| read_objects(batch, &objects, keys, &stats)),
        );
        Ok(())
    }

    /// Files a block of `time` that fails its batch with `e`.
    fn fail_later(&self, time: Time, e: Error) {
        self.slot
            .put_deferred(time, Box::new(move |_: &Batch<'_>| Err(e)));
    }
}

/// Reads `keys` in parallel on the batch's workers (each worker a contiguous share, a
/// few requests at a time), in order, into its partitions.
fn read_objects(
    batch: &Batch<'_>,
    objects: &Prefix,
    keys: Vec<String>,
    stats: &SourceStats,
) -> crate::Result<Parts<String>> {
    let shares = split_even(keys, batch.partitions());
    let per_share = batch.map_owned(shares, |keys| -> crate::Result<Vec<String>> {
        let mut lines = Vec::new();
        for (key, bytes) in keys.iter().zip(objects.get_all(&keys)?) {
            let what = format!("{}/{key}", objects.url().trim_end_matches('/'));
            match bytes {
                Some(bytes) => lines.extend(lines_of(&bytes, &what, stats)),
                None => {
                    tracing::warn!(object = %what, "a new object was deleted before it was read; skipping it")
                }
            }
        }
        Ok(lines)
    });
    let mut lines = Vec::new();
    for share in per_share {
        lines.extend(share?);
    }
    stats.add_late_records(lines.len());
    Ok(split_even(lines, batch.partitions()))
}

impl SourceControl for ObjectFileSource {
    fn describe(&self) -> String {
        format!("text_file_stream({})", self.url)
    }

    fn start(&self) -> crate::Result<()> {
        let objects = Prefix::open(&self.url, &self.bucket, &self.prefix)?;
        let _ = self.objects.set(Arc::new(objects));
        let existing = self.list()?;
        lock(&self.seen).extend(existing);
        Ok(())
    }

    fn cut(&self, time: Time) -> usize {
        let listed = match self.list() {
            Ok(l) => l,
            Err(e) => {
                *lock(&self.last_cut) = (time, Vec::new());
                self.fail_later(time, e);
                return 0;
            }
        };
        let threshold = self.threshold();
        let mut taken = Vec::new();
        let mut seen = lock(&self.seen);
        for (key, modified) in listed {
            if modified > threshold && !seen.contains_key(&key) {
                seen.insert(key.clone(), modified);
                taken.push((key, modified));
            }
        }
        // An object older than the window can no longer be new: forget it.
        seen.retain(|_, modified| *modified > threshold);
        drop(seen);
        if let Err(e) = self.read_later(time, &taken) {
            self.fail_later(time, e);
        }
        *lock(&self.last_cut) = (time, taken);
        0
    }

    fn stop(&self) {}

    fn block_record(&self, time: Time) -> crate::Result<Vec<u8>> {
        let last = lock(&self.last_cut);
        let taken: &[(String, u64)] = if last.0 == time { &last.1 } else { &[] };
        to_bytes(&taken)
    }

    fn replay(&self, time: Time, record: &[u8]) -> crate::Result<usize> {
        let taken: Taken = from_bytes(record)?;
        lock(&self.seen).extend(taken.iter().cloned());
        self.read_later(time, &taken)?;
        *lock(&self.last_cut) = (time, taken);
        Ok(0)
    }

    fn position(&self) -> crate::Result<Vec<u8>> {
        let mut seen: Taken = lock(&self.seen)
            .iter()
            .map(|(k, t)| (k.clone(), *t))
            .collect();
        seen.sort();
        to_bytes(&seen)
    }

    fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        let seen: Taken = from_bytes(position)?;
        *lock(&self.seen) = seen.into_iter().collect();
        Ok(())
    }
}
