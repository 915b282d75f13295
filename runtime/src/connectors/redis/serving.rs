//! What the serving sinks ([`RedisHashSink`](super::RedisHashSink) and
//! [`RedisSortedSetSink`](super::RedisSortedSetSink)) share: the batch's commands built
//! in `write_partitions`, one pipeline per partition, sent when the batch commits; keys
//! replaced whole inside `MULTI`/`EXEC` blocks; records grouped by key.

use super::conn::Conns;
use super::sink::StreamField;
use crate::{Result, Time};
use std::collections::HashMap;

/// Commands per `MULTI`/`EXEC` block at most (a key's commands are never split, so a
/// block with one large key holds more): a transaction runs alone on the server, and
/// small ones keep the server answering readers between them.
const BLOCK_COMMANDS: usize = 256;

/// Arguments (fields and values, or scores and members) per `HSET` or `ZADD` at most;
/// a key with more is written with several commands (in the same block).
pub(super) const PAIRS_PER_COMMAND: usize = 1000;

/// A batch written and not yet committed: its time and one pipeline per partition that
/// has records.
pub(super) struct Pending {
    time: Time,
    pipes: Vec<::redis::Pipeline>,
}

/// The commands of one partition, in `MULTI`/`EXEC` blocks when keys are replaced.
pub(super) struct Blocks {
    pipe: ::redis::Pipeline,
    atomic: bool,
    /// Commands in the open block (0: none open).
    in_block: usize,
}

impl Blocks {
    /// An empty pipeline; with `atomic`, every key's commands are sent inside a
    /// `MULTI`/`EXEC` block.
    pub(super) fn new(atomic: bool) -> Blocks {
        Blocks {
            pipe: ::redis::pipe(),
            atomic,
            in_block: 0,
        }
    }

    /// Adds the commands of one key: `f` appends them to the pipeline and returns how
    /// many it appended.
    pub(super) fn key(&mut self, f: impl FnOnce(&mut ::redis::Pipeline) -> usize) {
        if self.atomic && self.in_block == 0 {
            self.pipe.cmd("MULTI");
        }
        self.in_block += f(&mut self.pipe);
        if self.atomic && self.in_block >= BLOCK_COMMANDS {
            self.pipe.cmd("EXEC");
            self.in_block = 0;
        }
    }

    /// The pipeline, with its last block closed; `None` if it has no command.
    pub(super) fn finish(mut self) -> Option<::redis::Pipeline> {
        if self.atomic && self.in_block > 0 {
            self.pipe.cmd("EXEC");
        }
        (!self.pipe.is_empty()).then_some(self.pipe)
    }
}

impl Pending {
    /// The batch at `time` with the pipelines of its partitions.
    pub(super) fn new(
        time: Time,
        pipes: impl IntoIterator<Item = Option<::redis::Pipeline>>,
    ) -> Self {
        Pending {
            time,
            pipes: pipes.into_iter().flatten().collect(),
        }
    }

    /// Sends the pipelines, one round trip each, in partition order (so that where two
    /// partitions write the same field, the later partition's value stays, as a replay
    /// writes it). A dropped connection is replaced and the pipeline sent again: every
    /// command is idempotent (`HSET`, `ZADD`, `DEL`, and whole blocks).
    fn send(&self, conns: &Conns, what: &str) -> Result<()> {
        for (i, pipe) in self.pipes.iter().enumerate() {
            conns.run(
                || {
                    format!(
                        "{what}, batch {} (pipeline {} of {}, {} commands)",
                        self.time,
                        i + 1,
                        self.pipes.len(),
                        pipe.len()
                    )
                },
                |c| pipe.exec(c),
            )?;
        }
        Ok(())
    }
}

/// Sends the pending batch if it is the batch at `time` (the commit of a sink that
/// wrote it); otherwise keeps it.
pub(super) fn commit(
    pending: &mut Option<Pending>,
    conns: &Conns,
    what: &str,
    time: Time,
) -> Result<()> {
    match pending.take() {
        Some(p) if p.time == time => p.send(conns, what),
        other => {
            *pending = other;
            Ok(())
        }
    }
}

/// `prefix` followed by `key`'s bytes: the Redis key a record names.
pub(super) fn full_key(prefix: &str, key: &impl StreamField) -> Vec<u8> {
    let key = key.field();
    let mut k = Vec::with_capacity(prefix.len() + key.len());
    k.extend_from_slice(prefix.as_bytes());
    k.extend_from_slice(&key);
    k
}

/// Records grouped by key, keys in order of first appearance; where a key appears in
/// several partitions, its group is written with the first of them.
pub(super) struct Grouped<T> {
    /// Per partition, the keys it writes, each with its items in record order.
    pub(super) partitions: Vec<Vec<(Vec<u8>, Vec<T>)>>,
}

impl<T> Grouped<T> {
    /// Groups `(key, item)` pairs of each partition by key, across the partitions.
    pub(super) fn new(partitions: Vec<Vec<(Vec<u8>, T)>>) -> Grouped<T> {
        let mut at: HashMap<Vec<u8>, (usize, usize)> = HashMap::new();
        let mut out: Vec<Vec<(Vec<u8>, Vec<T>)>> = Vec::with_capacity(partitions.len());
        for (p, records) in partitions.into_iter().enumerate() {
            out.push(Vec::new());
            for (key, item) in records {
                match at.get(&key) {
                    Some(&(q, i)) => out[q][i].1.push(item),
                    None => {
                        at.insert(key.clone(), (p, out[p].len()));
                        out[p].push((key, vec![item]));
                    }
                }
            }
        }
        Grouped { partitions: out }
    }
}
