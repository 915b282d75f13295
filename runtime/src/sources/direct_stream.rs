//! [`DirectInput`]: runs any [`DirectSource`] as a context's source, as Spark's
//! `DirectKafkaInputDStream` runs Kafka.
//!
//! At every cut (on the clock's thread) it lists the partitions (a new one starts at the
//! source's [`initial_offset`](DirectSource::initial_offset)), asks every partition where
//! it ends now, capped by the rate, and files a deferred block: when the batch runs, the
//! workers read the ranges in parallel, broker partition `i` (partitions sorted by name)
//! becoming partition `i` of the batch. The ranges are the batch's block record, so the
//! batch log holds them and a recovered job reads exactly them again; the ends after each
//! cut are the source's position in checkpoints. Once every output of a batch succeeded,
//! the ends the batch read are committed to the broker.
//!
//! **Rate.** With `max_rate_per_partition(n)`, a cut takes at most `n` records per second
//! of batch interval from every partition. With backpressure on, the rate the controller
//! gives the source is shared evenly by its partitions (at most `n` each), and what a
//! partition with fewer records leaves over goes to those that filled their share. A
//! partition always gets at least one record per batch, so a job never stalls
//! (Spark's `maxMessagesPerPartition`).
//!
//! **Failures.** An error of the source at the cut (listing, initial offsets, ends) fails
//! that batch: nothing moves, the batch's block is that error, and the context stops with
//! it. An error while reading fails the batch the same way. Retrying a dropped connection
//! is the source's part (the Redis connector retries a few times with a short backoff). A
//! failed commit is logged and the job goes on: the checkpoint, not the broker, holds
//! where a recovered job resumes, and the next batch's commit moves the broker on.

use super::{DirectSource, Slot, SourceControl, SourceStats};
use crate::checkpoint::store::{from_bytes, to_bytes};
use crate::sync::lock;
use crate::{Batch, Error, Parts, Result, Time};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The range one partition gives a batch: records after `from` up to `to` (inclusive).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Range<O> {
    partition: String,
    from: O,
    to: O,
}

/// Where every partition is: the end of the last range cut, by partition name.
type Ends<O> = BTreeMap<String, O>;

/// The planned cut of one batch.
struct Plan<O> {
    ranges: Vec<Range<O>>,
    /// Records in each range, if the source said at the cut.
    counts: Vec<Option<u64>>,
}

/// Runs a [`DirectSource`] as a context's source (see the module documentation); made by
/// [`direct_stream`](super::direct_stream) and the broker connectors.
pub struct DirectInput<S: DirectSource> {
    source: Arc<S>,
    slot: Arc<Slot<S::Record>>,
    stats: Arc<SourceStats>,
    interval: Duration,
    /// At most this many records per second from each partition (0: unlimited).
    max_rate_per_partition: u64,
    /// Backpressure: at most this many records per second from all partitions together
    /// (0: unlimited).
    rate: AtomicU64,
    ends: Mutex<Ends<S::Offset>>,
    /// The batch time and serialized ranges of the last cut.
    last_cut: Mutex<Option<(Time, Vec<u8>)>>,
    /// The ends each cut reached, until its batch completes and they are committed.
    uncommitted: Mutex<VecDeque<(Time, Vec<(String, S::Offset)>)>>,
    /// The first failure of the source; the context stops with it.
    failure: Mutex<Option<Error>>,
    describe: String,
}

impl<S: DirectSource> DirectInput<S> {
    /// The adapter of `source` for batches of `interval`, taking at most
    /// `max_rate_per_partition` records per second from each partition (0: unlimited);
    /// returns it and its slot.
    pub fn new(
        source: S,
        interval: Duration,
        max_rate_per_partition: u64,
        stats: Arc<SourceStats>,
    ) -> (Arc<Self>, Arc<Slot<S::Record>>) {
        let slot = Arc::new(Slot::new(1));
        let a = DirectInput {
            describe: source.describe(),
            source: Arc::new(source),
            slot: slot.clone(),
            stats,
            interval,
            max_rate_per_partition,
            rate: AtomicU64::new(0),
            ends: Mutex::new(BTreeMap::new()),
            last_cut: Mutex::new(None),
            uncommitted: Mutex::new(VecDeque::new()),
            failure: Mutex::new(None),
        };
        (Arc::new(a), slot)
    }

    fn fail(&self, e: &Error) {
        tracing::error!(source = %self.describe, error = %e, "a direct source failed; the streaming context stops");
        lock(&self.failure).get_or_insert_with(|| e.duplicate());
    }

    /// The partitions now, sorted, with where each is (new ones at their initial offset).
    fn listed(&self) -> Result<Ends<S::Offset>> {
        let mut names = self.source.partitions()?;
        names.sort();
        names.dedup();
        let known = lock(&self.ends).clone();
        let mut now = BTreeMap::new();
        for name in names {
            let from = match known.get(&name) {
                Some(o) => o.clone(),
                None => {
                    let o = self.source.initial_offset(&name)?;
                    tracing::info!(source = %self.describe, partition = %name, offset = ?o, "reading a new partition");
                    o
                }
            };
            now.insert(name, from);
        }
        Ok(now)
    }

    /// The most records one partition's range may hold, per the rates: one share of the
    /// backpressure rate and at most the partition's maximum; `None`: unlimited.
    fn caps(&self, partitions: usize) -> (Option<u64>, Option<u64>) {
        let secs = self.interval.as_secs_f64();
        let per_batch = |rate: u64| ((rate as f64 * secs) as u64).max(1);
        let max = (self.max_rate_per_partition > 0).then(|| per_batch(self.max_rate_per_partition));
        let rate = self.rate.load(Ordering::Relaxed);
        let share =
            (rate > 0 && partitions > 0).then(|| (per_batch(rate) / partitions as u64).max(1));
        let cap = match (share, max) {
            (Some(s), Some(m)) => Some(s.min(m)),
            (s, m) => s.or(m),
        };
        (cap, max)
    }

    /// The ranges the batch at `time` takes (nothing moves yet).
    fn plan(&self) -> Result<Plan<S::Offset>> {
        let starts = self.listed()?;
        let (cap, max) = self.caps(starts.len());
        let mut ranges = Vec::with_capacity(starts.len());
        let mut counts = Vec::with_capacity(starts.len());
        for (partition, from) in starts {
            let (to, n) = self.end(&partition, &from, cap)?;
            ranges.push(Range {
                partition,
                from,
                to,
            });
            counts.push(n);
        }
        // Backpressure: what partitions with fewer records than their share left over
        // goes to those that filled it (still at most `max` each).
        if let (Some(cap), true) = (cap, self.rate.load(Ordering::Relaxed) > 0) {
            let left: u64 = counts
                .iter()
                .map(|n| n.map_or(0, |n| cap.saturating_sub(n)))
                .sum();
            // A range whose size the source did not say may have filled its share too.
            let full: Vec<usize> = (0..counts.len())
                .filter(|&i| counts[i].is_none_or(|n| n >= cap))
                .collect();
            let room = max.map_or(u64::MAX, |m| m.saturating_sub(cap));
            if left > 0 && !full.is_empty() && room > 0 {
                let extra = (left / full.len() as u64).min(room);
                for i in full.into_iter().filter(|_| extra > 0) {
                    let r = &mut ranges[i];
                    let (to, n) = self.end(&r.partition, &r.to, Some(extra))?;
                    r.to = to;
                    counts[i] = match (counts[i], n) {
                        (Some(a), Some(b)) => Some(a + b),
                        _ => None,
                    };
                }
            }
        }
        Ok(Plan { ranges, counts })
    }

    /// Where `partition` ends after `from`, at most `cap` records on.
    fn end(
        &self,
        partition: &str,
        from: &S::Offset,
        cap: Option<u64>,
    ) -> Result<(S::Offset, Option<u64>)> {
        let (to, n) = self.source.end_offset(partition, from, cap)?;
        if to < *from {
            return Err(Error::io(
                format!("{}: partition {partition}", self.describe),
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("it ends at {to:?}, before the start of its range {from:?}"),
                ),
            ));
        }
        let n = if to == *from { Some(0) } else { n };
        Ok((to, n))
    }

    /// Files the block of `time`: `ranges`, read when the batch runs; moves the ends.
    fn file(
        &self,
        time: Time,
        ranges: Vec<Range<S::Offset>>,
        counts: Vec<Option<u64>>,
        record: Vec<u8>,
    ) {
        let mut ends = lock(&self.ends);
        for r in &ranges {
            ends.insert(r.partition.clone(), r.to.clone());
        }
        drop(ends);
        lock(&self.uncommitted).push_back((
            time,
            ranges
                .iter()
                .map(|r| (r.partition.clone(), r.to.clone()))
                .collect(),
        ));
        *lock(&self.last_cut) = Some((time, record));
        let source = self.source.clone();
        let stats = self.stats.clone();
        self.slot.put_deferred(
            time,
            Box::new(move |batch: &Batch<'_>| read_ranges(batch, &*source, ranges, counts, &stats)),
        );
    }

    /// Files a block of `time` that fails with `e` (a cut that could not be planned):
    /// nothing moves and the batch fails.
    fn file_failure(&self, time: Time, e: Error) -> Result<()> {
        self.fail(&e);
        let unchanged: Vec<Range<S::Offset>> = lock(&self.ends)
            .iter()
            .map(|(p, o)| Range {
                partition: p.clone(),
                from: o.clone(),
                to: o.clone(),
            })
            .collect();
        *lock(&self.last_cut) = Some((time, to_bytes(&unchanged)?));
        self.slot
            .put_deferred(time, Box::new(move |_: &Batch<'_>| Err(e)));
        Ok(())
    }
}

/// Reads every range in parallel on the batch's workers: range `i` is partition `i`.
/// Records the cut did not count are counted as late records.
fn read_ranges<S: DirectSource>(
    batch: &Batch<'_>,
    source: &S,
    ranges: Vec<Range<S::Offset>>,
    counts: Vec<Option<u64>>,
    stats: &SourceStats,
) -> Result<Parts<S::Record>> {
    if ranges.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let read = batch.map_owned(ranges.into_iter().zip(counts).collect(), |(r, counted)| {
        if r.from == r.to {
            return Ok(Vec::new());
        }
        let records = source.read(&r.partition, &r.from, &r.to)?;
        if counted.is_none() {
            stats.add_late_records(records.len());
        }
        Ok(records)
    });
    read.into_iter().collect()
}

impl<S: DirectSource> SourceControl for DirectInput<S> {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    /// Starts the source and fixes where the partitions there now begin (so
    /// [`StartAt::Latest`](super::StartAt::Latest) means "from the start of the context").
    /// A recovered context then moves them to its checkpoint.
    fn start(&self) -> Result<()> {
        self.source.start()?;
        let starts = self.listed()?;
        *lock(&self.ends) = starts;
        Ok(())
    }

    fn stop(&self) {
        self.source.stop();
    }

    fn cut(&self, time: Time) -> usize {
        match self.plan() {
            Ok(plan) => {
                let record = match to_bytes(&plan.ranges) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = self.file_failure(time, e);
                        return 0;
                    }
                };
                let n = plan.counts.iter().flatten().sum::<u64>() as usize;
                self.file(time, plan.ranges, plan.counts, record);
                n
            }
            Err(e) => {
                if let Err(e) = self.file_failure(time, e) {
                    self.fail(&e);
                }
                0
            }
        }
    }

    fn block_record(&self, time: Time) -> Result<Vec<u8>> {
        Ok(match &*lock(&self.last_cut) {
            Some((t, ranges)) if *t == time => ranges.clone(),
            _ => Vec::new(),
        })
    }

    fn check(&self) -> Result<()> {
        match lock(&self.failure).as_ref() {
            Some(e) => Err(e.duplicate()),
            None => Ok(()),
        }
    }

    fn replay(&self, time: Time, record: &[u8]) -> Result<usize> {
        if record.is_empty() {
            return Ok(self.cut(time));
        }
        let ranges: Vec<Range<S::Offset>> = from_bytes(record)?;
        let counts = vec![None; ranges.len()];
        self.file(time, ranges, counts, record.to_vec());
        Ok(0)
    }

    fn position(&self) -> Result<Vec<u8>> {
        let ends: Vec<(String, S::Offset)> = lock(&self.ends)
            .iter()
            .map(|(p, o)| (p.clone(), o.clone()))
            .collect();
        to_bytes(&ends)
    }

    fn restore_position(&self, position: &[u8]) -> Result<()> {
        let ends: Vec<(String, S::Offset)> = from_bytes(position)?;
        *lock(&self.ends) = ends.into_iter().collect();
        Ok(())
    }

    fn limits_cut_rate(&self) -> bool {
        true
    }

    fn set_cut_rate(&self, rate: u64) {
        self.rate.store(rate, Ordering::Relaxed);
    }

    fn batch_completed(&self, time: Time) -> Result<()> {
        let mut pending = lock(&self.uncommitted);
        while pending.front().is_some_and(|(t, _)| *t < time) {
            pending.pop_front();
        }
        let ends = match pending.front() {
            Some((t, _)) if *t == time => pending.pop_front().map(|(_, e)| e),
            _ => None,
        };
        drop(pending);
        if let Some(ends) = ends {
            if let Err(e) = self.source.commit(time, &ends) {
                tracing::warn!(source = %self.describe, time = time.millis(), error = %e,
                    "cannot commit offsets to the broker; the next batch commits again");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Executor;
    use crate::sources::SourceHandle;

    /// Partitions of numbered records in memory: offset `n` is after the `n`-th record.
    #[derive(Default)]
    struct Log {
        parts: Mutex<BTreeMap<String, Vec<String>>>,
        commits: Mutex<Vec<(Time, Vec<(String, u64)>)>>,
        fail_reads: std::sync::atomic::AtomicBool,
    }

    impl Log {
        fn push(&self, p: &str, n: usize) {
            let mut parts = lock(&self.parts);
            let v = parts.entry(p.to_string()).or_default();
            for _ in 0..n {
                let i = v.len();
                v.push(format!("{p}{i}"));
            }
        }
    }

    impl DirectSource for Arc<Log> {
        type Record = String;
        type Offset = u64;
        fn describe(&self) -> String {
            "log".into()
        }
        fn partitions(&self) -> Result<Vec<String>> {
            Ok(lock(&self.parts).keys().rev().cloned().collect())
        }
        fn initial_offset(&self, _: &str) -> Result<u64> {
            Ok(0)
        }
        fn end_offset(&self, p: &str, from: &u64, max: Option<u64>) -> Result<(u64, Option<u64>)> {
            let len = lock(&self.parts)[p].len() as u64;
            let to = max.map_or(len, |m| (from + m).min(len));
            Ok((to, None))
        }
        fn read(&self, p: &str, from: &u64, to: &u64) -> Result<Vec<String>> {
            if self.fail_reads.load(Ordering::Relaxed) {
                return Err(Error::io("read", std::io::Error::other("broker gone")));
            }
            Ok(lock(&self.parts)[p][*from as usize..*to as usize].to_vec())
        }
        fn commit(&self, time: Time, ends: &[(String, u64)]) -> Result<()> {
            lock(&self.commits).push((time, ends.to_vec()));
            Ok(())
        }
    }

    fn take(slot: &Arc<Slot<String>>, t: u64) -> Result<Parts<String>> {
        let exec = Executor::new(2).unwrap();
        SourceHandle::new(slot.clone()).try_take(&Batch::new(Time(t), Time(0), &exec))
    }

    #[test]
    fn cuts_ranges_per_partition_replays_them_and_commits_ends() {
        let log = Arc::new(Log::default());
        log.push("b", 2);
        let stats = Arc::new(SourceStats::default());
        let (src, slot) = DirectInput::new(log.clone(), Duration::from_secs(1), 0, stats.clone());
        src.start().unwrap();
        log.push("b", 1);
        log.push("a", 2); // a partition added after start
        src.cut(Time(1000));
        let record = src.block_record(Time(1000)).unwrap();
        let pos = src.position().unwrap();
        assert_eq!(
            take(&slot, 1000).unwrap(),
            vec![vec!["a0", "a1"], vec!["b0", "b1", "b2"]]
        );
        assert_eq!(stats.late_records(), 5);
        src.batch_completed(Time(1000)).unwrap();
        assert_eq!(
            lock(&log.commits).clone(),
            [(Time(1000), vec![("a".to_string(), 2), ("b".to_string(), 3)])]
        );
        // Nothing new: empty ranges, still one partition per broker partition.
        src.cut(Time(2000));
        assert_eq!(
            take(&slot, 2000).unwrap(),
            vec![Vec::<String>::new(), vec![]]
        );
        // A restarted adapter moved back to the position before the cut of 1000 and
        // replaying its record reads exactly the same ranges, though more arrived.
        log.push("a", 5);
        let (again, slot2) = DirectInput::new(log.clone(), Duration::from_secs(1), 0, stats);
        again
            .restore_position(&to_bytes(&Vec::<(String, u64)>::new()).unwrap())
            .unwrap();
        again.replay(Time(1000), &record).unwrap();
        assert_eq!(
            take(&slot2, 1000).unwrap(),
            vec![vec!["a0", "a1"], vec!["b0", "b1", "b2"]]
        );
        assert_eq!(again.position().unwrap(), pos);
    }

    #[test]
    fn rates_cap_each_partition_and_backpressure_shares_what_is_left() {
        let log = Arc::new(Log::default());
        log.push("a", 100);
        log.push("b", 3);
        let stats = Arc::new(SourceStats::default());
        let (src, slot) = DirectInput::new(log.clone(), Duration::from_millis(500), 20, stats);
        src.start().unwrap();
        // 20/s for 0.5 s: 10 records per partition.
        src.cut(Time(500));
        let parts = take(&slot, 500).unwrap();
        assert_eq!((parts[0].len(), parts[1].len()), (10, 3));
        // Backpressure at 16/s: 8 per batch, 4 each; b has 0, so a gets 4 more (8).
        src.set_cut_rate(16);
        src.cut(Time(1000));
        let parts = take(&slot, 1000).unwrap();
        assert_eq!((parts[0].len(), parts[1].len()), (8, 0));
        assert_eq!(parts[0][0], "a10");
    }

    #[test]
    fn a_read_error_fails_the_batch_with_it() {
        let log = Arc::new(Log::default());
        log.push("a", 1);
        let (src, slot) = DirectInput::new(log.clone(), Duration::from_secs(1), 0, Arc::default());
        src.start().unwrap();
        log.push("a", 1);
        src.cut(Time(1000));
        log.fail_reads.store(true, Ordering::Relaxed);
        let e = take(&slot, 1000).unwrap_err();
        assert!(e.to_string().contains("broker gone"), "{e}");
    }
}
