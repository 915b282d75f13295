//! Real-time recommendations ("people who clicked this also clicked"): clicks `user,item`
//! from a Redis stream; every user's recent items over a sliding window; item-to-item
//! co-occurrence counts kept as state; and, after every batch, the 10 items most
//! related to each item whose counts changed, served from Redis.
//!
//! ```text
//! redis-server --port 6379 --save '' --appendonly no &
//! cargo run --release --features redis --example recommend -- --checkpoint /tmp/recommend
//! redis-cli XADD clicks '*' value "ann,espresso"          # in another terminal
//! redis-cli XADD clicks '*' value "ann,grinder"
//! redis-cli ZREVRANGE related:espresso 0 -1 WITHSCORES     # 1) "grinder" 2) "1"
//! ```
//!
//! Two clicks of a user co-occur if they are within the window of each other (`--window`,
//! default 60 s): when a click of item `i` arrives, every other item the user clicked in
//! the window so far counts one co-occurrence with `i`, both ways (a user clicking the
//! same item twice relates it to nothing). The served list of item `i` is its related
//! items with their counts, best first: `ZREVRANGE related:i 0 -1 WITHSCORES` (ties
//! ranked as Redis ranks them, the member that sorts last first), or with `--serve hash`
//! the same items as the fields of the hash `related:i` (`HGETALL`). A list is replaced
//! whole in one transaction, so a reader never sees it half old, half new.
//!
//! With `--checkpoint DIR` the job resumes where it was after a crash (even `kill -9`):
//! every click enters the counts exactly once, and a batch written again writes the same
//! lists. Flags: `--url`, `--stream` (default `clicks`), `--prefix` (default
//! `related:`), `--window`, `--top` (default 10), `--serve zset|hash`, `--group`, and
//! those of every `#[rill::main]` program (`--batch-interval 1s`, `--master local[2]`,
//! `--checkpoint DIR`; `--help`).

use rill::prelude::*;
use rill::serde::{Deserialize, Serialize};
use rill::sink::{RedisHashSink, RedisSortedSetSink, Sink};
use rill::source::{Message, RedisOptions, Source, redis_string_stream};
use std::collections::{BTreeMap, HashMap};

/// Where the clicks come from and where the recommendations go.
#[derive(rill::clap::Args)]
struct Args {
    /// The Redis server.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    url: String,
    /// The stream of clicks (entries whose `value` is `user,item`).
    #[arg(long, default_value = "clicks")]
    stream: String,
    /// Item ITEM's list is served at PREFIX + ITEM.
    #[arg(long, default_value = "related:")]
    prefix: String,
    /// How long a click relates to the user's other clicks (a multiple of the batch
    /// interval).
    #[arg(long, default_value = "60s", value_parser = rill::parse_duration)]
    window: Duration,
    /// How many related items each list keeps.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Serve the lists as sorted sets (`zset`: ZREVRANGE) or hashes (`hash`: HGETALL).
    #[arg(long, default_value = "zset", value_parser = ["zset", "hash"])]
    serve: String,
    /// The consumer group whose position follows the job (`XINFO GROUPS`).
    #[arg(long, default_value = "recommend")]
    group: String,
}

/// `user,item` as a click; anything else is skipped.
pub fn parse_click(line: &str) -> Option<(String, String)> {
    let (user, item) = line.split_once(',')?;
    let (user, item) = (user.trim(), item.trim());
    (!user.is_empty() && !item.is_empty()).then(|| (user.to_string(), item.to_string()))
}

/// The co-occurrences a user's new clicks of the batch (`new`) add, given the items the
/// user clicked in the window, this batch's included (`recent`): `(item, other)` and
/// `(other, item)` for each new click paired with every earlier click in the window and
/// with the batch's new clicks before it, skipping pairs of one item.
pub fn co_clicks(new: &[String], recent: &[String]) -> Vec<(String, String)> {
    // The earlier clicks: the window's, less this batch's (as multisets).
    let mut left: HashMap<&str, usize> = HashMap::new();
    for item in new {
        *left.entry(item).or_default() += 1;
    }
    let mut earlier = Vec::with_capacity(recent.len().saturating_sub(new.len()));
    for item in recent {
        match left.get_mut(item.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => earlier.push(item),
        }
    }
    let mut pairs = Vec::new();
    for (i, item) in new.iter().enumerate() {
        for other in earlier.iter().copied().chain(&new[..i]) {
            if other != item {
                pairs.push((item.clone(), other.clone()));
                pairs.push((other.clone(), item.clone()));
            }
        }
    }
    pairs
}

/// An item's co-occurrence counts, and whether the last batch changed them.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(crate = "rill::serde")]
pub struct Related {
    /// Other item -> how often it co-occurred with this one.
    pub counts: BTreeMap<String, u64>,
    /// Whether the last batch added to the counts (only changed lists are written).
    pub changed: bool,
}

impl Related {
    /// The state after a batch that brought `others` (one entry per co-occurrence).
    pub fn update(others: Vec<String>, related: Option<Related>) -> Option<Related> {
        let mut related = related.unwrap_or_default();
        related.changed = !others.is_empty();
        for other in others {
            *related.counts.entry(other).or_default() += 1;
        }
        Some(related)
    }

    /// The `k` best related items, as Redis ranks a sorted set in `ZREVRANGE`: highest
    /// count first, ties by name, the one that sorts last first.
    pub fn top(&self, k: usize) -> Vec<(String, u64)> {
        let mut all: Vec<(&String, u64)> = self.counts.iter().map(|(o, n)| (o, *n)).collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(a.0)));
        all.into_iter()
            .take(k)
            .map(|(o, n)| (o.clone(), n))
            .collect()
    }
}

/// Where the lists go: sorted sets or hashes, replaced whole.
pub enum Served {
    /// `ZREVRANGE prefix+item 0 -1 WITHSCORES`.
    SortedSets(RedisSortedSetSink),
    /// `HGETALL prefix+item`.
    Hashes(RedisHashSink),
}

impl Served {
    /// Lists of item ITEM at `prefix` + ITEM, at `url`, as sorted sets or (`hashes`)
    /// hashes.
    pub fn new(url: &str, prefix: &str, hashes: bool) -> rill::Result<Served> {
        Ok(if hashes {
            Served::Hashes(RedisHashSink::new(url, prefix)?.replace(true))
        } else {
            Served::SortedSets(RedisSortedSetSink::new(url, prefix)?)
        })
    }
}

type List = (String, Vec<(String, u64)>);

impl Sink<List> for Served {
    fn write(&mut self, time: Time, records: Vec<List>) -> rill::Result<()> {
        self.write_partitions(time, vec![records])
    }

    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<List>>) -> rill::Result<()> {
        match self {
            Served::SortedSets(lists) => lists.write_partitions(time, partitions),
            Served::Hashes(hashes) => {
                let fields = partitions
                    .into_iter()
                    .map(|p| {
                        p.into_iter()
                            .flat_map(|(item, list)| {
                                list.into_iter().map(move |(o, n)| (item.clone(), o, n))
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect();
                hashes.write_partitions(time, fields)
            }
        }
    }

    fn commit(&mut self, time: Time) -> rill::Result<()> {
        match self {
            Served::SortedSets(lists) => Sink::<List>::commit(lists, time),
            Served::Hashes(hashes) => Sink::<(String, String, u64)>::commit(hashes, time),
        }
    }
}

/// The recommender on `ctx`: clicks from `input`, co-occurrences within `window`, the
/// `top` best related items of every changed item written to `served`.
pub fn recommender(
    ctx: &StreamingContext,
    input: impl Source<Message<String>>,
    window: Duration,
    top: usize,
    served: Served,
) {
    stream! { ctx;
        let clicks = source(input).flat_map(|m| parse_click(&m.value));
        // Each user's items in the window (this batch's last), and in this batch.
        let recent = clicks.group_by_key_and_window(window);
        clicks
            .group_by_key()
            .join(recent)
            .flat_map(|(_, (new, recent))| co_clicks(new, recent))
            .update_state_by_key(|others: Vec<String>, related: Option<Related>| Related::update(others, related))
            .filter(|(_, related)| related.changed)
            .map(|(item, related)| (item, related.top(top)))
            .write_to(served);
    }
}

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let options = RedisOptions::default().group(args.group.clone());
    let input = redis_string_stream(&args.url, [args.stream.clone()], options);
    let served = Served::new(&args.url, &args.prefix, args.serve == "hash")?;
    recommender(&ctx, input, args.window, args.top, served);
    ctx.start()?;
    let read = match args.serve.as_str() {
        "hash" => "HGETALL",
        _ => "ZREVRANGE",
    };
    println!(
        "recommend: clicks from {}, the top {} related items of ITEM at {}ITEM ({read})",
        args.stream, args.top, args.prefix
    );
    Ok(())
}
