//! [`RedisSource`]: Redis Streams as a [`DirectSource`]: a partition is a stream key,
//! an offset an entry ID, a batch's range of a stream is read with `XRANGE key (from to`.

use super::conn::{Conns, error};
use super::{EntryId, RedisOptions, RedisValue};
use crate::sources::{DirectSource, Message, SourceStats, StartAt};
use crate::sync::lock;
use crate::{Result, Time};
use ::redis::Value;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

/// Entries one `XRANGE` returns at most while a range is read.
const READ_CHUNK: usize = 10_000;

/// Where the range after `ARGV[1]` (exclusive, `(id`) of stream `KEYS[1]` ends after at
/// most `ARGV[2]` entries: `{count, last id}`, computed on the server so the cut does not
/// fetch the entries.
const CAPPED_END: &str = "local r = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2]) \
    if #r == 0 then return {0, ''} end return {#r, r[#r][1]}";

/// The most entries after a committed ID that [`COMMIT`] counts to tell Redis the lag.
const LAG_COUNT: u64 = 100_000;

/// Moves group `ARGV[1]` of stream `KEYS[1]` to ID `ARGV[2]`, creating it (and the stream)
/// if missing. The entries after the ID are counted (up to `ARGV[3]`, a thousand at a
/// time) so that `ENTRIESREAD` makes `XINFO GROUPS` show the lag exactly; past that, or
/// before Redis 7 (no `entries-added`), the ID alone is set.
const COMMIT: &str = r#"
local key, group, id, cap = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local added = nil
local info = redis.pcall('XINFO', 'STREAM', key)
if type(info) == 'table' and not info.err then
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then added = info[i + 1] end
  end
end
local read = nil
if added then
  local after, from = 0, '(' .. id
  while true do
    local r = redis.call('XRANGE', key, from, '+', 'COUNT', 1000)
    after = after + #r
    if #r < 1000 or after >= cap then break end
    from = '(' .. r[#r][1]
  end
  if after < cap then read = added - after end
end
local set
if read then
  set = redis.pcall('XGROUP', 'SETID', key, group, id, 'ENTRIESREAD', read)
else
  set = redis.pcall('XGROUP', 'SETID', key, group, id)
end
if type(set) == 'table' and set.err then
  if string.find(set.err, 'NOGROUP') then
    if read then
      return redis.call('XGROUP', 'CREATE', key, group, id, 'MKSTREAM', 'ENTRIESREAD', read)
    end
    return redis.call('XGROUP', 'CREATE', key, group, id, 'MKSTREAM')
  end
  return set
end
return set
"#;

/// Redis Streams read by exact ID ranges (see the module documentation).
pub(crate) struct RedisSource<V> {
    conns: Conns,
    url: String,
    options: RedisOptions,
    /// Streams that existed when the context started (`StartAt::Latest` skips their
    /// entries of before; a stream created later is read from its first entry).
    at_start: Mutex<BTreeSet<String>>,
    stats: Arc<SourceStats>,
    _values: PhantomData<fn() -> V>,
}

/// The text of a reply value (a bulk or simple string), if it is one.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// A reply that is not shaped as documented.
fn unexpected(what: &str, v: &Value) -> ::redis::RedisError {
    ::redis::RedisError::from((
        ::redis::ErrorKind::Parse,
        "unexpected reply",
        format!("{what}: {v:?}"),
    ))
}

/// The pairs of a flat `[name, value, name, value, ...]` array or a map reply.
fn pairs(v: Value) -> Vec<(Value, Value)> {
    match v {
        Value::Map(m) => m,
        Value::Array(a) => {
            let mut it = a.into_iter();
            let mut out = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The entries of an `XRANGE` reply: `(id, fields)`.
fn entries(reply: Value) -> ::redis::RedisResult<Vec<(EntryId, Vec<(Value, Value)>)>> {
    let Value::Array(items) = reply else {
        return Err(unexpected("XRANGE", &reply));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Array(mut parts) = item else {
            return Err(unexpected("XRANGE entry", &item));
        };
        if parts.len() != 2 {
            return Err(unexpected("XRANGE entry", &Value::Array(parts)));
        }
        let fields = parts.pop().map(pairs).unwrap_or_default();
        let id = parts.pop().unwrap_or_default();
        let id = text(&id)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| unexpected("XRANGE entry id", &id))?;
        out.push((id, fields));
    }
    Ok(out)
}

impl<V: RedisValue> RedisSource<V> {
    /// Reads as `options` say from the server at `url` (checked when the context starts).
    pub(crate) fn new(
        url: String,
        options: RedisOptions,
        stats: Arc<SourceStats>,
    ) -> RedisSource<V> {
        RedisSource {
            conns: Conns::new(&url),
            url,
            options,
            at_start: Mutex::new(BTreeSet::new()),
            stats,
            _values: PhantomData,
        }
    }

    /// The ID of the last entry of `key` (`0-0` if it has none or does not exist).
    fn last_id(&self, key: &str) -> Result<EntryId> {
        let reply: Value = self.conns.run(
            || format!("XREVRANGE {key} + - COUNT 1"),
            |c| {
                ::redis::cmd("XREVRANGE")
                    .arg(key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query(c)
            },
        )?;
        let last = entries(reply).map_err(|e| error(&format!("XREVRANGE {key}"), e))?;
        Ok(last.first().map_or(EntryId::ZERO, |(id, _)| *id))
    }

    /// The group's last-delivered ID in `key`, if the stream and the group exist.
    fn group_id(&self, key: &str) -> Result<Option<EntryId>> {
        let group = &self.options.group;
        let reply = self.conns.run(
            || format!("XINFO GROUPS {key}"),
            |c| match ::redis::cmd("XINFO")
                .arg("GROUPS")
                .arg(key)
                .query::<Value>(c)
            {
                Err(e) if e.code() == Some("ERR") && e.to_string().contains("no such key") => {
                    Ok(Value::Array(Vec::new()))
                }
                r => r,
            },
        )?;
        let Value::Array(groups) = reply else {
            return Ok(None);
        };
        for g in groups {
            let fields = pairs(g);
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(k, _)| text(k).as_deref() == Some(name))
                    .and_then(|(_, v)| text(v))
            };
            if field("name").as_deref() == Some(group.as_str()) {
                return Ok(field("last-delivered-id").and_then(|id| id.parse().ok()));
            }
        }
        Ok(None)
    }

    /// Creates the group in `key` at `id` (`$`: the stream's end), with the stream if it
    /// does not exist; a group that exists already is kept.
    fn create_group(&self, key: &str, id: &str) -> Result<()> {
        let group = &self.options.group;
        self.conns.run(
            || format!("XGROUP CREATE {key} {group} {id} MKSTREAM"),
            |c| match ::redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(key)
                .arg(group)
                .arg(id)
                .arg("MKSTREAM")
                .query::<Value>(c)
            {
                Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
                r => r.map(|_| ()),
            },
        )
    }

    /// The keys of the streams matching the options' pattern (`SCAN ... TYPE stream`).
    fn scan(&self, pattern: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, batch): (String, Vec<String>) = self.conns.run(
                || format!("SCAN MATCH {pattern}"),
                |c| {
                    ::redis::cmd("SCAN")
                        .arg(&cursor)
                        .arg("MATCH")
                        .arg(pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .arg("TYPE")
                        .arg("stream")
                        .query(c)
                },
            )?;
            keys.extend(batch);
            if next == "0" {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    /// A record of `key` from an entry's fields, or `None` (counted as malformed) if it
    /// has no `value` field, its value is not a `V` or its key is not UTF-8.
    fn message(&self, key: &str, id: EntryId, fields: Vec<(Value, Value)>) -> Option<Message<V>> {
        let mut value = None;
        let mut rec_key = None;
        for (name, v) in fields {
            let Value::BulkString(bytes) = v else {
                continue;
            };
            match &name {
                Value::BulkString(n) if n == b"value" => value = Some(bytes),
                Value::BulkString(n) if n == b"key" => rec_key = Some(String::from_utf8(bytes)),
                _ => {}
            }
        }
        let decoded = value.and_then(V::decode);
        match (decoded, rec_key.transpose()) {
            (Some(value), Ok(k)) => Some(Message {
                key: k,
                value,
                partition: key.to_string(),
                offset: id.to_string(),
                timestamp: Some(Time(id.ms)),
            }),
            _ => {
                self.stats.malformed();
                tracing::warn!(stream = %key, id = %id, "skipping a malformed entry (no `value` field, a value that is not {}, or a key that is not UTF-8)", V::KIND);
                None
            }
        }
    }
}

impl<V: RedisValue> DirectSource for RedisSource<V> {
    type Record = Message<V>;
    type Offset = EntryId;

    fn describe(&self) -> String {
        let mut what = self.options.streams.join(", ");
        if let Some(p) = &self.options.pattern {
            if !what.is_empty() {
                what.push_str(", ");
            }
            what.push_str(&format!("keys matching {p}"));
        }
        let url = self.url.split('@').next_back().unwrap_or_default();
        format!("redis_stream({url}: {what}, group {})", self.options.group)
    }

    /// Creates the consumer group in every listed stream (with the stream, `MKSTREAM`)
    /// and notes which streams exist now.
    fn start(&self) -> Result<()> {
        self.conns.check()?;
        let at = if self.options.start_at == StartAt::Latest {
            "$"
        } else {
            "0"
        };
        for key in &self.options.streams {
            self.create_group(key, at)?;
        }
        let now = self.partitions()?;
        *lock(&self.at_start) = now.into_iter().collect();
        Ok(())
    }

    fn partitions(&self) -> Result<Vec<String>> {
        let mut keys: BTreeSet<String> = self.options.streams.iter().cloned().collect();
        if let Some(p) = &self.options.pattern {
            keys.extend(self.scan(p)?);
        }
        Ok(keys.into_iter().collect())
    }

    fn initial_offset(&self, key: &str) -> Result<EntryId> {
        match self.options.start_at {
            StartAt::Earliest => Ok(EntryId::ZERO),
            StartAt::Latest if lock(&self.at_start).contains(key) => self.last_id(key),
            StartAt::Latest => Ok(EntryId::ZERO),
            StartAt::Committed => Ok(self.group_id(key)?.unwrap_or(EntryId::ZERO)),
        }
    }

    fn end_offset(
        &self,
        key: &str,
        from: &EntryId,
        max: Option<u64>,
    ) -> Result<(EntryId, Option<u64>)> {
        let Some(max) = max else {
            let last = self.last_id(key)?;
            return Ok(if last > *from {
                (last, None)
            } else {
                (*from, Some(0))
            });
        };
        let (n, last): (u64, String) = self.conns.run(
            || format!("XRANGE {key} ({from} + COUNT {max} (server-side)"),
            |c| {
                ::redis::cmd("EVAL")
                    .arg(CAPPED_END)
                    .arg(1)
                    .arg(key)
                    .arg(format!("({from}"))
                    .arg(max)
                    .query(c)
            },
        )?;
        if n == 0 {
            return Ok((*from, Some(0)));
        }
        let last = last.parse().map_err(|_| {
            error(
                &format!("XRANGE {key}"),
                unexpected("last id", &Value::SimpleString(last.clone())),
            )
        })?;
        Ok((last, Some(n)))
    }

    fn read(&self, key: &str, from: &EntryId, to: &EntryId) -> Result<Vec<Message<V>>> {
        let mut out = Vec::new();
        let mut after = *from;
        while after < *to {
            let reply: Value = self.conns.run(
                || format!("XRANGE {key} ({after} {to}"),
                |c| {
                    ::redis::cmd("XRANGE")
                        .arg(key)
                        .arg(format!("({after}"))
                        .arg(to.to_string())
                        .arg("COUNT")
                        .arg(READ_CHUNK)
                        .query(c)
                },
            )?;
            let got = entries(reply).map_err(|e| error(&format!("XRANGE {key}"), e))?;
            let Some((last, _)) = got.last() else {
                break; // trimmed or deleted since the cut
            };
            after = *last;
            let full = got.len() == READ_CHUNK;
            out.extend(
                got.into_iter()
                    .filter_map(|(id, fields)| self.message(key, id, fields)),
            );
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Moves the group's last-delivered ID of every stream to the end the batch read
    /// (`XGROUP SETID`, with the entries read so far so that `XINFO GROUPS` shows the
    /// lag), creating the group where it is missing.
    fn commit(&self, _time: Time, ends: &[(String, EntryId)]) -> Result<()> {
        let group = &self.options.group;
        for (key, id) in ends {
            let id = id.to_string();
            let _: Value = self.conns.run(
                || format!("XGROUP SETID {key} {group} {id}"),
                |c| {
                    ::redis::cmd("EVAL")
                        .arg(COMMIT)
                        .arg(1)
                        .arg(key)
                        .arg(group)
                        .arg(&id)
                        .arg(LAG_COUNT)
                        .query(c)
                },
            )?;
        }
        Ok(())
    }
}
