//! [`RedisHashSink`]: keyed values written to Redis hashes (`HSET`), for serving.

use super::conn::Conns;
use super::serving::{Blocks, Grouped, PAIRS_PER_COMMAND, Pending, commit, full_key};
use super::sink::StreamField;
use crate::sinks::Sink;
use crate::{Result, Time};

/// A [`Sink`] writing keyed values into Redis hashes with `HSET`, so that any service
/// reads the results with `HGET` / `HGETALL`. Its records take one of two shapes:
///
/// | record | written to | read with |
/// |---|---|---|
/// | `(field, value)` | the one hash `key` given to [`new`](Self::new) | `HGETALL key`, `HGET key field` |
/// | `(hash, field, value)` | the hash `key` + `hash` (`key` is a prefix, possibly empty) | `HGETALL {key}{hash}` |
///
/// Fields, values and hash names are [`StreamField`]s: text, bytes, or numbers (written
/// as their decimal text).
///
/// ```text
/// // Word totals in one hash: HGETALL word-totals
/// totals.write_to(RedisHashSink::new(url, "word-totals")?);
/// // A hash per user: HGETALL user:ann  ->  page -> visits
/// visits.map(|((user, page), n)| (user, page, n)).write_to(RedisHashSink::new(url, "user:")?);
/// ```
///
/// **Writes.** `write_partitions` turns the batch's records into commands, one pipeline
/// per partition, the records of a hash gathered into one `HSET` per 1000 fields; when
/// the batch commits (every output of the batch succeeded), each pipeline is sent in
/// one round trip, partition after partition, so a batch costs one round trip per
/// partition with records. A field written twice in a batch keeps the value of its last
/// record, in partition order.
///
/// **Replacing hashes.** By default a batch adds and updates fields and leaves the
/// hash's other fields alone (an upsert, as `PostgresSink`'s). With
/// [`replace(true)`](Self::replace), every hash a batch writes holds exactly the batch's
/// fields for it afterwards: its `DEL` and `HSET`s run inside one `MULTI`/`EXEC`
/// transaction, so a reader never sees it half old, half new (or empty).
///
/// **Idempotent.** `HSET` and a replacing transaction leave the same hash however often
/// they run: a batch a recovered job writes again (see [`Sink`]: at least once) holds
/// the same records, so the hashes end as an uninterrupted run leaves them. A dropped
/// connection is replaced and the pipeline sent again, a few times, before the batch
/// fails with an [`Error::Io`](crate::Error::Io).
///
/// ```
/// use rill_runtime::connectors::redis::RedisHashSink;
/// use rill_runtime::sinks::Sink;
///
/// let totals = RedisHashSink::new("redis://127.0.0.1:6379", "word-totals")?;
/// fn writes_pairs(_: &impl Sink<(String, u64)>) {}
/// writes_pairs(&totals);
/// let per_user = RedisHashSink::new("redis://127.0.0.1:6379", "user:")?.replace(true);
/// fn writes_triples(_: &impl Sink<(String, &'static str, f64)>) {}
/// writes_triples(&per_user);
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub struct RedisHashSink {
    conns: Conns,
    key: String,
    replace: bool,
    pending: Option<Pending>,
}

impl RedisHashSink {
    /// A sink writing to the hash `key` at `url` (`redis://host:port[/db]`), or, for
    /// `(hash, field, value)` records, to the hashes `key` + `hash`. Fails if the URL is
    /// invalid; it connects at the first batch.
    pub fn new(url: impl AsRef<str>, key: impl Into<String>) -> Result<RedisHashSink> {
        let conns = Conns::new(url.as_ref());
        conns.check()?;
        Ok(RedisHashSink {
            conns,
            key: key.into(),
            replace: false,
            pending: None,
        })
    }

    /// Whether every hash a batch writes is replaced by the batch's fields for it
    /// (`DEL` and `HSET` in one `MULTI`/`EXEC`), instead of having them added and updated
    /// (the default).
    pub fn replace(mut self, replace: bool) -> Self {
        self.replace = replace;
        self
    }

    /// Builds the batch's pipelines: per partition, its hashes with their fields.
    fn prepare<T>(
        &mut self,
        time: Time,
        partitions: Vec<Vec<(Vec<u8>, Vec<T>)>>,
        field_value: impl Fn(&T) -> (std::borrow::Cow<'_, [u8]>, std::borrow::Cow<'_, [u8]>),
    ) {
        let replace = self.replace;
        let pipes = partitions.into_iter().map(|hashes| {
            let mut blocks = Blocks::new(replace);
            for (key, fields) in hashes {
                blocks.key(|pipe| {
                    let mut commands = 0;
                    if replace {
                        pipe.cmd("DEL").arg(&key);
                        commands += 1;
                    }
                    for chunk in fields.chunks(PAIRS_PER_COMMAND) {
                        let cmd = pipe.cmd("HSET").arg(&key);
                        for item in chunk {
                            let (f, v) = field_value(item);
                            cmd.arg(&*f).arg(&*v);
                        }
                        commands += 1;
                    }
                    commands
                });
            }
            blocks.finish()
        });
        self.pending = Some(Pending::new(time, pipes.collect::<Vec<_>>()));
    }

    fn what(&self) -> String {
        format!("HSET {}", self.key)
    }
}

impl<F: StreamField, V: StreamField> Sink<(F, V)> for RedisHashSink {
    fn write(&mut self, time: Time, records: Vec<(F, V)>) -> Result<()> {
        Sink::<(F, V)>::write_partitions(self, time, vec![records])
    }

    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<(F, V)>>) -> Result<()> {
        // One hash: each partition's records in its pipeline, or, replacing the hash,
        // all of them in one transaction (with the first partition that has records).
        let key = self.key.as_bytes().to_vec();
        let mut hashes: Vec<Vec<(Vec<u8>, Vec<&(F, V)>)>> = Vec::with_capacity(partitions.len());
        for p in &partitions {
            let records: Vec<&(F, V)> = p.iter().collect();
            let first = hashes.iter().position(|h| !h.is_empty());
            match first {
                Some(q) if self.replace => {
                    hashes[q][0].1.extend(records);
                    hashes.push(Vec::new());
                }
                _ if records.is_empty() => hashes.push(Vec::new()),
                _ => hashes.push(vec![(key.clone(), records)]),
            }
        }
        self.prepare(time, hashes, |(f, v)| (f.field(), v.field()));
        Ok(())
    }

    fn commit(&mut self, time: Time) -> Result<()> {
        let what = self.what();
        commit(&mut self.pending, &self.conns, &what, time)
    }
}

impl<H: StreamField, F: StreamField, V: StreamField> Sink<(H, F, V)> for RedisHashSink {
    fn write(&mut self, time: Time, records: Vec<(H, F, V)>) -> Result<()> {
        Sink::<(H, F, V)>::write_partitions(self, time, vec![records])
    }

    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<(H, F, V)>>) -> Result<()> {
        let keyed = partitions
            .iter()
            .map(|p| p.iter().map(|r| (full_key(&self.key, &r.0), r)).collect())
            .collect();
        let hashes = Grouped::new(keyed).partitions;
        self.prepare(time, hashes, |(_, f, v)| (f.field(), v.field()));
        Ok(())
    }

    fn commit(&mut self, time: Time) -> Result<()> {
        let what = self.what();
        commit(&mut self.pending, &self.conns, &what, time)
    }
}
