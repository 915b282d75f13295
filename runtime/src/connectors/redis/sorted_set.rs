//! [`RedisSortedSetSink`]: ranked lists (top-k) written to Redis sorted sets, each
//! replaced whole.

use super::conn::Conns;
use super::serving::{Blocks, Grouped, PAIRS_PER_COMMAND, Pending, commit, full_key};
use super::sink::StreamField;
use crate::sinks::Sink;
use crate::{Error, Result, Time};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

/// A score of a sorted set's member: a number Redis keeps as an `f64` (an integer
/// above 2^53 loses precision, as it would in Redis).
pub trait Score {
    /// The score.
    fn score(&self) -> f64;
}

macro_rules! scores {
    ($($t:ty),*) => {$(
        impl Score for $t {
            fn score(&self) -> f64 {
                *self as f64
            }
        }
    )*};
}

scores!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);

impl<S: Score> Score for &S {
    fn score(&self) -> f64 {
        (**self).score()
    }
}

/// A [`Sink`] writing ranked lists into Redis sorted sets, one per key, each replaced
/// whole at every batch that writes it, so that any service reads a list with
/// `ZREVRANGE key 0 -1 WITHSCORES` (best first) and never sees it half old, half new.
/// Records take one of two shapes:
///
/// | record | the sorted set `prefix` + `key` holds after the batch |
/// |---|---|
/// | `(key, Vec<(member, score)>)` | exactly the list's members (of a key's last record in the batch) |
/// | `(key, member, score)` | exactly the members of the batch's records of `key` |
///
/// Keys and members are [`StreamField`]s (text, bytes, numbers as decimal text), scores
/// [`Score`]s (integers and floats). A key the batch has no record of is left as it
/// is; a record with an empty list deletes its key.
///
/// With [`top(k)`](Self::top) a list keeps only its `k` best members in `ZREVRANGE`
/// order: highest score first, and among equal scores the member that sorts last
/// (bytewise) first, as Redis ranks them; the sink ranks and cuts the list before
/// sending it (what `ZADD` then `ZREMRANGEBYRANK key 0 -(k+1)` would leave, without
/// sending the rest), a member listed twice counting with its last score.
///
/// ```text
/// // For every item, its 10 most related items: ZREVRANGE related:ITEM 0 9 WITHSCORES
/// related
///     .map(|(item, counts)| (item, counts.into_iter().collect::<Vec<(String, u64)>>()))
///     .write_to(RedisSortedSetSink::new(url, "related:")?.top(10));
/// ```
///
/// **Writes.** `write_partitions` turns the batch's records into commands, one pipeline
/// per partition; each key is `DEL key` then `ZADD key score member ...` (1000 members
/// per `ZADD`) inside a `MULTI`/`EXEC` transaction (the transactions of a pipeline each
/// hold up to about 256 commands, a key never split). When the batch commits (every
/// output of the batch succeeded) the pipelines are sent, one round trip each,
/// partition after partition.
///
/// **Idempotent.** A key's transaction leaves the same sorted set however often it runs:
/// a batch a recovered job writes again (see [`Sink`]: at least once) holds the same
/// records, so the lists end as an uninterrupted run leaves them. A dropped connection
/// is replaced and the pipeline sent again, a few times, before the batch fails with an
/// [`Error::Io`]; so does a NaN score (which Redis refuses).
///
/// ```
/// use rill_runtime::connectors::redis::RedisSortedSetSink;
/// use rill_runtime::sinks::Sink;
///
/// let related = RedisSortedSetSink::new("redis://127.0.0.1:6379", "related:")?.top(10);
/// fn writes_lists(_: &impl Sink<(String, Vec<(String, u64)>)>) {}
/// writes_lists(&related);
/// fn writes_members(_: &impl Sink<(u32, &'static str, f64)>) {}
/// writes_members(&related);
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub struct RedisSortedSetSink {
    conns: Conns,
    prefix: String,
    top: Option<usize>,
    pending: Option<Pending>,
}

/// A list as it is sent: members and scores.
type List<'a> = Vec<(Cow<'a, [u8]>, f64)>;

impl RedisSortedSetSink {
    /// A sink writing the sorted sets `prefix` + key at `url` (`redis://host:port[/db]`).
    /// Fails if the URL is invalid; it connects at the first batch.
    pub fn new(url: impl AsRef<str>, prefix: impl Into<String>) -> Result<RedisSortedSetSink> {
        let conns = Conns::new(url.as_ref());
        conns.check()?;
        Ok(RedisSortedSetSink {
            conns,
            prefix: prefix.into(),
            top: None,
            pending: None,
        })
    }

    /// Keeps only the `k` best members of every list, in `ZREVRANGE` order (highest
    /// score first, ties by member, bytewise, last first).
    pub fn top(mut self, k: usize) -> Self {
        self.top = Some(k);
        self
    }

    fn what(&self) -> String {
        format!("ZADD {}*", self.prefix)
    }

    /// Builds the batch's pipelines: per partition, its keys with their lists.
    fn prepare(&mut self, time: Time, partitions: Vec<Vec<(Vec<u8>, List<'_>)>>) -> Result<()> {
        let mut pipes = Vec::with_capacity(partitions.len());
        for keys in partitions {
            let mut blocks = Blocks::new(true);
            for (key, list) in keys {
                if let Some((member, _)) = list.iter().find(|(_, s)| s.is_nan()) {
                    return Err(Error::io(
                        self.what(),
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "the score of {:?} in {:?} is NaN",
                                String::from_utf8_lossy(member),
                                String::from_utf8_lossy(&key)
                            ),
                        ),
                    ));
                }
                let list = match self.top {
                    Some(k) => top_k(list, k),
                    None => list,
                };
                blocks.key(|pipe| {
                    pipe.cmd("DEL").arg(&key);
                    let mut commands = 1;
                    for chunk in list.chunks(PAIRS_PER_COMMAND) {
                        let cmd = pipe.cmd("ZADD").arg(&key);
                        for (member, score) in chunk {
                            cmd.arg(*score).arg(&**member);
                        }
                        commands += 1;
                    }
                    commands
                });
            }
            pipes.push(blocks.finish());
        }
        self.pending = Some(Pending::new(time, pipes));
        Ok(())
    }
}

/// The `k` best of `list` in `ZREVRANGE` order (score descending, then member
/// descending), a member listed twice counting with its last score.
fn top_k(list: List<'_>, k: usize) -> List<'_> {
    if list.len() <= k {
        return list;
    }
    let mut last: HashMap<&[u8], usize> = HashMap::with_capacity(list.len());
    for (i, (member, _)) in list.iter().enumerate() {
        last.insert(member, i);
    }
    let keep: Vec<bool> = (0..list.len()).map(|i| last[&*list[i].0] == i).collect();
    let mut list: List<'_> = list
        .into_iter()
        .zip(keep)
        .filter_map(|(m, keep)| keep.then_some(m))
        .collect();
    let rank = |a: &(Cow<'_, [u8]>, f64), b: &(Cow<'_, [u8]>, f64)| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| b.0.cmp(&a.0))
    };
    if list.len() > k {
        list.select_nth_unstable_by(k, rank);
        list.truncate(k);
    }
    list.sort_unstable_by(rank);
    list
}

impl<K, M, S> Sink<(K, Vec<(M, S)>)> for RedisSortedSetSink
where
    K: StreamField,
    M: StreamField,
    S: Score,
{
    fn write(&mut self, time: Time, records: Vec<(K, Vec<(M, S)>)>) -> Result<()> {
        Sink::<(K, Vec<(M, S)>)>::write_partitions(self, time, vec![records])
    }

    fn write_partitions(
        &mut self,
        time: Time,
        partitions: Vec<Vec<(K, Vec<(M, S)>)>>,
    ) -> Result<()> {
        let keyed = partitions
            .iter()
            .map(|p| {
                p.iter()
                    .map(|(k, list)| (full_key(&self.prefix, k), list))
                    .collect()
            })
            .collect();
        // A key's last record in the batch is its list.
        let lists = Grouped::new(keyed)
            .partitions
            .into_iter()
            .map(|keys| {
                keys.into_iter()
                    .map(|(key, records)| {
                        let list = records.last().map_or_else(Vec::new, |l| {
                            l.iter().map(|(m, s)| (m.field(), s.score())).collect()
                        });
                        (key, list)
                    })
                    .collect()
            })
            .collect();
        self.prepare(time, lists)
    }

    fn commit(&mut self, time: Time) -> Result<()> {
        let what = self.what();
        commit(&mut self.pending, &self.conns, &what, time)
    }
}

impl<K, M, S> Sink<(K, M, S)> for RedisSortedSetSink
where
    K: StreamField,
    M: StreamField,
    S: Score,
{
    fn write(&mut self, time: Time, records: Vec<(K, M, S)>) -> Result<()> {
        Sink::<(K, M, S)>::write_partitions(self, time, vec![records])
    }

    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<(K, M, S)>>) -> Result<()> {
        let keyed = partitions
            .iter()
            .map(|p| {
                p.iter()
                    .map(|(k, m, s)| (full_key(&self.prefix, k), (m.field(), s.score())))
                    .collect()
            })
            .collect();
        let lists = Grouped::new(keyed).partitions;
        self.prepare(time, lists)
    }

    fn commit(&mut self, time: Time) -> Result<()> {
        let what = self.what();
        commit(&mut self.pending, &self.conns, &what, time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(&'static str, f64)]) -> List<'static> {
        items
            .iter()
            .map(|(m, s)| (Cow::Borrowed(m.as_bytes()), *s))
            .collect()
    }

    #[test]
    fn top_k_ranks_as_zrevrange_and_counts_a_member_once() {
        let l = list(&[("a", 2.0), ("b", 5.0), ("c", 2.0), ("b", 1.0), ("d", 3.0)]);
        // b's last score is 1; ties at 2 rank c before a.
        assert_eq!(
            top_k(l.clone(), 3),
            list(&[("d", 3.0), ("c", 2.0), ("a", 2.0)])
        );
        assert_eq!(top_k(l.clone(), 4).len(), 4);
        assert_eq!(top_k(l.clone(), 5), l, "a list within k is sent as it is");
        assert!(top_k(l, 0).is_empty());
    }
}
