//! The JetStream connector (feature `nats`) against a running nats-server with
//! JetStream (2.9 or later), calling `DirectSource` and `Sink` directly. Skips when
//! `RILL_TEST_NATS_URL` is not set (see `support::servers`). Every test works in a
//! stream of its own, named after the process and the test, deleted at the end.
#![cfg(feature = "nats")]

mod support;

use rill::Time;
use rill::sink::{JetStreamSink, Sink};
use rill::source::{JetStreamOptions, jetstream, jetstream_strings};
use rill_runtime::connectors::nats::client::async_nats;
use rill_runtime::connectors::nats::client::tokio;
use rill_runtime::sources::{DirectSource, StartAt};
use std::time::Instant;

use async_nats::jetstream::{self as js, stream};

/// Held while a test creates or deletes its stream: nats-server 2.9 removes the account's
/// store directory when its last stream is deleted, and a stream created at that moment
/// fails ("could not create storage directory").
static STREAMS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A stream of the test's own, subjects `NAME.>`, and a client to feed it.
struct Fixture {
    rt: tokio::runtime::Runtime,
    js: js::Context,
    url: String,
    name: String,
}

impl Fixture {
    /// A fresh stream for `test`, or `None` (the test skips) without a server.
    fn new(test: &str) -> Option<Fixture> {
        let url = support::servers::nats_url()?;
        let name = format!("RILL_{}_{test}", std::process::id());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _streams = STREAMS.lock().unwrap_or_else(|e| e.into_inner());
        let js = rt.block_on(async {
            let client = async_nats::connect(&url).await.unwrap();
            let js = js::new(client);
            let _ = js.delete_stream(&name).await;
            js.create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("{name}.>")],
                ..Default::default()
            })
            .await
            .unwrap();
            js
        });
        Some(Fixture { rt, js, url, name })
    }

    /// The full subject `NAME.s`.
    fn subject(&self, s: &str) -> String {
        format!("{}.{s}", self.name)
    }

    /// Publishes `(subject, key, payload)` messages in order, awaiting every ack;
    /// returns their stream sequences.
    fn publish(&self, messages: &[(String, Option<String>, Vec<u8>)]) -> Vec<u64> {
        self.rt.block_on(async {
            let mut seqs = Vec::with_capacity(messages.len());
            for chunk in messages.chunks(1000) {
                let mut acks = Vec::with_capacity(chunk.len());
                for (subject, key, payload) in chunk {
                    let mut headers = async_nats::HeaderMap::new();
                    if let Some(k) = key {
                        headers.insert("key", k.as_str());
                    }
                    let ack = self
                        .js
                        .publish_with_headers(subject.clone(), headers, payload.clone().into())
                        .await
                        .unwrap();
                    acks.push(ack);
                }
                for ack in acks {
                    seqs.push(ack.await.unwrap().sequence);
                }
            }
            seqs
        })
    }

    /// The info of consumer `name` of the stream.
    fn consumer(&self, name: &str) -> js::consumer::Info {
        self.rt.block_on(async {
            let stream = self.js.get_stream(&self.name).await.unwrap();
            stream.consumer_info(name).await.unwrap()
        })
    }

    /// Messages in the stream.
    fn stored(&self) -> u64 {
        self.rt.block_on(async {
            let mut stream = self.js.get_stream(&self.name).await.unwrap();
            stream.info().await.unwrap().state.messages
        })
    }

    /// The stored messages of `subject`, headers included, in order.
    fn messages(&self, subject: &str) -> Vec<async_nats::jetstream::message::StreamMessage> {
        self.rt.block_on(async {
            let stream = self.js.get_stream(&self.name).await.unwrap();
            let mut out = Vec::new();
            let mut seq = 1;
            while let Ok(m) = stream
                .raw_message_builder()
                .sequence(seq)
                .next_by_subject(subject)
                .send()
                .await
            {
                seq = m.sequence + 1;
                out.push(m);
            }
            out
        })
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _streams = STREAMS.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.rt.block_on(self.js.delete_stream(&self.name));
    }
}

/// Subjects a, b, c, d of `f`, in that order.
fn four(f: &Fixture) -> Vec<String> {
    ["a", "b", "c", "d"].iter().map(|s| f.subject(s)).collect()
}

/// `n` messages round-robin over `subjects`, payload `SUBJECT-i`, key `k-i` on every
/// other one.
fn interleaved(subjects: &[String], n: usize) -> Vec<(String, Option<String>, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let s = &subjects[i % subjects.len()];
            let k = (i % 2 == 0).then(|| format!("k-{i}"));
            (
                s.clone(),
                k,
                format!("{s}-{}", i / subjects.len()).into_bytes(),
            )
        })
        .collect()
}

#[test]
fn partitions_initial_offsets_end_offsets_and_reads_are_exact() {
    let Some(f) = Fixture::new("exact") else {
        return;
    };
    let subjects = four(&f);
    let seqs = f.publish(&interleaved(&subjects, 400));
    let a_seqs: Vec<u64> = seqs.iter().copied().step_by(4).collect();
    let b_seqs: Vec<u64> = seqs.iter().copied().skip(1).step_by(4).collect();
    let src = jetstream(
        &f.url,
        &f.name,
        subjects.clone(),
        JetStreamOptions::default().start_at(StartAt::Earliest),
    );
    src.start().unwrap();
    assert_eq!(src.partitions().unwrap(), subjects);
    let (a, b) = (&subjects[0], &subjects[1]);

    // Where each StartAt begins.
    assert_eq!(src.initial_offset(a).unwrap(), 0);
    let at = |start: StartAt| {
        let opts = JetStreamOptions::default()
            .start_at(start)
            .durable("nobody");
        jetstream(&f.url, &f.name, subjects.clone(), opts)
            .initial_offset(a)
            .unwrap()
    };
    assert_eq!(at(StartAt::Latest), *seqs.last().unwrap());
    assert_eq!(
        at(StartAt::Committed),
        0,
        "no durable consumer yet: earliest"
    );

    // Without a max: the subject's last sequence.
    assert_eq!(
        src.end_offset(a, &0, None).unwrap().0,
        *a_seqs.last().unwrap()
    );
    assert_eq!(
        src.end_offset(b, &0, None).unwrap().0,
        *b_seqs.last().unwrap()
    );
    let last_a = *a_seqs.last().unwrap();
    assert_eq!(src.end_offset(a, &last_a, None).unwrap(), (last_a, Some(0)));
    assert_eq!(
        src.end_offset(a, &last_a, Some(5)).unwrap(),
        (last_a, Some(0))
    );

    // With a max: the max-th message after `from`, counted, as reading it shows.
    for (from, max) in [(0, 10), (0, 1), (a_seqs[9], 5), (a_seqs[9] + 1, 7), (3, 99)] {
        let (end, n) = src.end_offset(a, &from, Some(max)).unwrap();
        let first = a_seqs.iter().position(|&s| s > from).unwrap();
        assert_eq!(
            end,
            a_seqs[first + max as usize - 1],
            "from {from} max {max}"
        );
        // The count, unless the messages after `from` all fit (then unknown).
        assert!(n == Some(max) || (n.is_none() && end == last_a), "{n:?}");
        assert_eq!(src.read(a, &from, &end).unwrap().len() as u64, max);
    }
    // A max the subject's messages fit in (though its sequences do not): all of it.
    let (end, _) = src.end_offset(a, &0, Some(150)).unwrap();
    assert_eq!(end, last_a);

    // Reads: exactly the range, in order, with the other subjects interleaved.
    let all = src.read(a, &0, &last_a).unwrap();
    assert_eq!(all.len(), 100);
    for (i, m) in all.iter().enumerate() {
        assert_eq!(m.value, format!("{a}-{i}").into_bytes());
        assert_eq!(m.partition, *a);
        assert_eq!(m.offset, a_seqs[i].to_string());
        assert_eq!(m.key, Some(format!("k-{}", 4 * i)));
        let ts = m.timestamp.unwrap().millis();
        assert!(
            ts > 1_600_000_000_000 && ts <= rill::now_ms() + 60_000,
            "{ts}"
        );
    }
    let mid = src.read(b, &b_seqs[2], &b_seqs[7]).unwrap();
    let offsets: Vec<String> = mid.iter().map(|m| m.offset.clone()).collect();
    let want: Vec<String> = b_seqs[3..=7].iter().map(u64::to_string).collect();
    assert_eq!(offsets, want);
    assert!(
        mid.iter().all(|m| m.key.is_none()),
        "b's messages have odd indexes"
    );
    // Ends that are not the subject's sequences.
    assert_eq!(src.read(a, &0, &(a_seqs[9] + 2)).unwrap().len(), 10);
    assert_eq!(
        src.read(a, &(a_seqs[9] - 1), &(a_seqs[9] + 3))
            .unwrap()
            .len(),
        1
    );
    assert!(src.read(a, &5, &5).unwrap().is_empty());
    // Small fetches: the same range in many pull requests.
    let small = jetstream(
        &f.url,
        &f.name,
        subjects.clone(),
        JetStreamOptions::default().fetch_batch(7),
    );
    assert_eq!(small.read(a, &0, &last_a).unwrap(), all);
    let (end, n) = small.end_offset(a, &0, Some(30)).unwrap();
    assert_eq!((end, n), (a_seqs[29], Some(30)));
    // Workers read the batch's partitions at once, through one source.
    let ends: Vec<u64> = subjects
        .iter()
        .map(|s| src.end_offset(s, &0, None).unwrap().0)
        .collect();
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let readers: Vec<_> = subjects
            .iter()
            .zip(&ends)
            .map(|(s, end)| scope.spawn(|| src.read(s, &0, end).unwrap().len()))
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(counts, [100; 4]);
    src.stop();
}

#[test]
fn the_strings_form_skips_and_counts_payloads_that_are_not_utf8() {
    let Some(f) = Fixture::new("strings") else {
        return;
    };
    let s = f.subject("text");
    let seqs = f.publish(&[
        (s.clone(), None, b"one".to_vec()),
        (s.clone(), None, vec![0xff, 0xfe, 0x00]),
        (s.clone(), None, "drei \u{e9}".as_bytes().to_vec()),
    ]);
    let opts = JetStreamOptions::default().start_at(StartAt::Earliest);
    let text = jetstream_strings(&f.url, &f.name, [s.clone()], opts.clone());
    let got = text.read(&s, &0, &seqs[2]).unwrap();
    let values: Vec<&str> = got.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(values, ["one", "drei \u{e9}"]);
    assert_eq!(text.malformed(), 1);
    let bytes = jetstream(&f.url, &f.name, [s.clone()], opts);
    assert_eq!(bytes.read(&s, &0, &seqs[2]).unwrap().len(), 3);
    assert_eq!(bytes.malformed(), 0);
}

#[test]
fn a_subject_first_published_to_while_running_becomes_a_partition() {
    let Some(f) = Fixture::new("wildcard") else {
        return;
    };
    let (a, b, c) = (f.subject("a"), f.subject("b"), f.subject("new.c"));
    let src = jetstream(
        &f.url,
        &f.name,
        [a.clone()],
        JetStreamOptions::default().subjects_matching(format!("{}.*", f.name)),
    );
    src.start().unwrap();
    assert_eq!(src.partitions().unwrap(), std::slice::from_ref(&a));
    f.publish(&[
        (b.clone(), None, b"x".to_vec()),
        (a.clone(), None, b"y".to_vec()),
    ]);
    assert_eq!(src.partitions().unwrap(), [a.clone(), b.clone()]);
    // `NAME.*` does not match `NAME.new.c`; `NAME.>` does.
    f.publish(&[(c.clone(), None, b"z".to_vec())]);
    assert_eq!(src.partitions().unwrap(), [a.clone(), b.clone()]);
    let all = jetstream(
        &f.url,
        &f.name,
        Vec::<String>::new(),
        JetStreamOptions::default().subjects_matching(format!("{}.>", f.name)),
    );
    assert_eq!(all.partitions().unwrap(), [a, b, c]);
}

#[test]
fn commit_moves_the_durable_consumers_ack_floor_and_committed_resumes_there() {
    let Some(f) = Fixture::new("commit") else {
        return;
    };
    let subjects = four(&f);
    let (a, b) = (&subjects[0], &subjects[1]);
    let seqs = f.publish(&interleaved(&subjects, 200));
    let a_seqs: Vec<u64> = seqs.iter().copied().step_by(4).collect();
    let b_seqs: Vec<u64> = seqs.iter().copied().skip(1).step_by(4).collect();
    let opts = JetStreamOptions::default().durable("job").fetch_batch(7);
    let src = jetstream(&f.url, &f.name, subjects.clone(), opts.clone());
    src.start().unwrap();
    assert_eq!(src.initial_offset(a).unwrap(), 0, "nothing committed yet");
    let (name_a, name_b) = (src.durable_name(a).unwrap(), src.durable_name(b).unwrap());
    assert_eq!(name_a, format!("job-{}_a", f.name));

    // Where the consumer is: its ack floor, or where it was created to start before
    // anything was acknowledged (nats-server 2.9 reports an ack floor of 0 then); and
    // the lag it shows: not delivered, plus delivered and not acknowledged.
    let check = |name: &str, end: u64, left: usize| {
        let info = f.consumer(name);
        let floor = match info.config.deliver_policy {
            js::consumer::DeliverPolicy::ByStartSequence { start_sequence }
                if info.ack_floor.stream_sequence == 0 =>
            {
                start_sequence - 1
            }
            _ => info.ack_floor.stream_sequence,
        };
        assert_eq!(floor, end, "{name}: {info:?}");
        assert_eq!(
            info.num_pending + info.num_ack_pending as u64,
            left as u64,
            "{name}: {info:?}"
        );
    };
    // First commit: the consumers are created after the ends.
    src.commit(
        Time(1000),
        &[(a.clone(), a_seqs[4]), (b.clone(), b_seqs[49])],
    )
    .unwrap();
    check(&name_a, a_seqs[4], 45);
    check(&name_b, b_seqs[49], 0);
    // Later commits walk the consumer up to the end (several fetches of 7, with the
    // other subjects' sequences in between), then not at all when it is there.
    for (t, i) in [(2000, 20), (3000, 21), (4000, 21), (5000, 49)] {
        src.commit(Time(t), &[(a.clone(), a_seqs[i])]).unwrap();
        check(&name_a, a_seqs[i], 49 - i);
    }
    src.commit(Time(6000), &[(a.clone(), a_seqs[30])]).unwrap();
    check(&name_a, a_seqs[49], 0);

    // A new source that starts at the committed position resumes there.
    let more = f.publish(&interleaved(&subjects, 8));
    let again = jetstream(&f.url, &f.name, subjects.clone(), opts.clone());
    assert_eq!(again.initial_offset(a).unwrap(), a_seqs[49]);
    let (end, _) = again.end_offset(a, &a_seqs[49], None).unwrap();
    assert_eq!(end, more[4]);
    let rest: Vec<u64> = again
        .read(a, &a_seqs[49], &end)
        .unwrap()
        .iter()
        .map(|m| m.offset.parse().unwrap())
        .collect();
    assert_eq!(rest, [more[0], more[4]]);
    // Committing part of the new messages leaves the rest as lag.
    again.commit(Time(7000), &[(a.clone(), more[0])]).unwrap();
    check(&name_a, more[0], 1);
    // Without a durable prefix, commit does nothing.
    let plain = jetstream(
        &f.url,
        &f.name,
        subjects.clone(),
        JetStreamOptions::default(),
    );
    plain.commit(Time(8000), &[(a.clone(), end)]).unwrap();
    check(&name_a, more[0], 1);
}

#[test]
fn the_sink_awaits_every_ack_and_a_rewritten_batch_is_dropped_as_duplicate() {
    let Some(f) = Fixture::new("sink") else {
        return;
    };
    let out = f.subject("out");
    let mut sink = JetStreamSink::new(&f.url, &out).window(16);
    let batch =
        |n: usize| -> Vec<(String, u64)> { (0..n).map(|i| (format!("w{i}"), i as u64)).collect() };
    sink.write(Time(1000), batch(50)).unwrap();
    assert_eq!((sink.published(), sink.duplicates()), (50, 0));
    assert_eq!(
        f.stored(),
        50,
        "every message acknowledged before write returned"
    );
    // The batch written again (a recomputed batch): dropped by the duplicate window.
    sink.write(Time(1000), batch(50)).unwrap();
    assert_eq!((sink.published(), sink.duplicates()), (50, 50));
    assert_eq!(f.stored(), 50);
    // So is it from another sink (a recovered job) with the same id prefix.
    let mut other = JetStreamSink::new(&f.url, &out);
    other.write(Time(1000), batch(50)).unwrap();
    assert_eq!(other.duplicates(), 50);
    // The next batch is new.
    Sink::<(String, u64)>::write(&mut sink, Time(2000), batch(3)).unwrap();
    assert_eq!(f.stored(), 53);

    let stored = f.messages(&out);
    assert_eq!(stored.len(), 53);
    let m = &stored[51];
    assert_eq!(m.payload.as_ref(), b"1");
    assert_eq!(m.headers.get("key").unwrap().as_str(), "w1");
    assert_eq!(m.headers.get("batch_time").unwrap().as_str(), "2000");
    let id = m.headers.get("Nats-Msg-Id").unwrap().as_str().to_string();
    let (head, n) = id.rsplit_once('-').unwrap();
    let (head, hash) = head.rsplit_once('-').unwrap();
    assert_eq!(
        (head, hash.len(), n),
        (&*format!("{out}-2000"), 32, "0"),
        "{id}"
    );
    // A batch whose first copy was cut short (a crash mid-write), written again in another
    // order after the recovery: what was missing is published, nothing twice, though
    // every record moved.
    let mut cut_short = JetStreamSink::new(&f.url, &out);
    let mut twice: Vec<(String, u64)> = batch(20);
    twice.push(("w3".into(), 3)); // the same record twice in the batch: both kept
    cut_short.write(Time(2500), twice[..8].to_vec()).unwrap();
    let mut again = twice.clone();
    again.reverse();
    let mut recovered = JetStreamSink::new(&f.url, &out);
    recovered.write(Time(2500), again).unwrap();
    assert_eq!((recovered.published(), recovered.duplicates()), (13, 8));
    let mut got: Vec<(String, String)> = f
        .messages(&out)
        .iter()
        .filter(|m| m.headers.get("batch_time").unwrap().as_str() == "2500")
        .map(|m| {
            let key = m.headers.get("key").unwrap().as_str().to_string();
            (key, String::from_utf8(m.payload.to_vec()).unwrap())
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = twice
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Values of other types, read back by the source.
    let mut bytes = JetStreamSink::new(&f.url, &out);
    bytes
        .write(
            Time(3000),
            vec![("k", b"\x01\x02".to_vec()), ("k", b"".to_vec())],
        )
        .unwrap();
    let src = jetstream(&f.url, &f.name, [out.clone()], JetStreamOptions::default());
    let last = src.end_offset(&out, &0, None).unwrap().0;
    let read = src.read(&out, &0, &last).unwrap();
    assert_eq!(read.len(), 76);
    assert_eq!(read[74].value, [1, 2]);
    assert_eq!(read[74].key.as_deref(), Some("k"));
    // A key with a line break cannot be a header.
    assert!(sink.write(Time(4000), vec![("a\nb", "v")]).is_err());
}

#[test]
fn throughput_of_read_and_of_the_sink() {
    let Some(f) = Fixture::new("throughput") else {
        return;
    };
    // 200k messages for the figure (run it with --release); fewer in debug builds, where
    // the client is some ten times slower and the figure means little.
    const N: usize = if cfg!(debug_assertions) {
        20_000
    } else {
        200_000
    };
    let (a, b) = (f.subject("a"), f.subject("b"));
    let t = Instant::now();
    let mut sink = JetStreamSink::new(&f.url, &a);
    let records: Vec<(u64, String)> = (0..N as u64)
        .map(|i| (i, format!("value-{i:08}")))
        .collect();
    sink.write(Time(1000), records).unwrap();
    let publish = t.elapsed();
    assert_eq!(sink.published(), N as u64);
    f.publish(&[(b.clone(), None, b"other".to_vec())]);
    // For comparison: the client alone, no headers (so no duplicate detection), awaiting
    // the acks in windows of 1000 as the sink does.
    let plain: Vec<_> = (0..N)
        .map(|i| (f.subject("c"), None, format!("value-{i:08}").into_bytes()))
        .collect();
    let t = Instant::now();
    f.publish(&plain);
    let baseline = t.elapsed();

    let src = jetstream(&f.url, &f.name, [a.clone(), b], JetStreamOptions::default());
    src.start().unwrap();
    let t = Instant::now();
    let (end, _) = src.end_offset(&a, &0, None).unwrap();
    let got = src.read(&a, &0, &end).unwrap();
    let read = t.elapsed();
    assert_eq!(got.len(), N);
    assert_eq!(got[N - 1].value, format!("value-{:08}", N - 1).into_bytes());
    let t = Instant::now();
    let (half, n) = src.end_offset(&a, &0, Some(N as u64 / 2)).unwrap();
    let walk = t.elapsed();
    assert_eq!(n, Some(N as u64 / 2));
    assert_eq!(half, N as u64 / 2);
    let rate = |d: std::time::Duration, n: usize| n as f64 / d.as_secs_f64();
    eprintln!(
        "jetstream, {N} messages of 14 bytes: sink {:.0} msg/s ({publish:?}; the bare client \
         without headers {:.0} msg/s), read {:.0} msg/s ({read:?}), end_offset walking {} \
         headers {:.0} msg/s ({walk:?})",
        rate(publish, N),
        rate(baseline, N),
        rate(read, N),
        N / 2,
        rate(walk, N / 2),
    );
}

#[test]
fn a_stream_that_does_not_exist_is_an_error_not_a_hang() {
    let Some(url) = support::servers::nats_url() else {
        return;
    };
    let name = format!("RILL_{}_missing", std::process::id());
    let subject = format!("{name}.a");
    let opts = JetStreamOptions::default().timeout(std::time::Duration::from_secs(5));
    let src = jetstream(&url, &name, [subject.clone()], opts);
    let e = src.start().unwrap_err().to_string();
    assert!(e.contains(&name), "{e}");
    assert!(src.read(&subject, &0, &10).is_err());
    assert!(src.end_offset(&subject, &0, None).is_err());
    let mut sink = JetStreamSink::new(&url, &subject).timeout(std::time::Duration::from_secs(5));
    assert!(sink.write(Time(1000), vec![("k", "v")]).is_err());
    // Nothing listens on this port: connecting fails.
    let closed = jetstream(
        "nats://127.0.0.1:1",
        &name,
        [subject],
        JetStreamOptions::default(),
    );
    assert!(closed.start().is_err());
}

#[test]
fn a_read_of_a_range_whose_messages_were_removed_returns_what_is_left() {
    let Some(f) = Fixture::new("removed") else {
        return;
    };
    let (a, b) = (f.subject("a"), f.subject("b"));
    let seqs = f.publish(&interleaved(&[a.clone(), b.clone()], 12));
    let a_seqs: Vec<u64> = seqs.iter().copied().step_by(2).collect();
    f.rt.block_on(async {
        let stream = f.js.get_stream(&f.name).await.unwrap();
        for seq in [a_seqs[2], a_seqs[5]] {
            assert!(stream.delete_message(seq).await.unwrap());
        }
    });
    let src = jetstream(&f.url, &f.name, [a.clone()], JetStreamOptions::default());
    let offsets = |from: u64, to: u64| -> Vec<u64> {
        let got = src.read(&a, &from, &to).unwrap();
        got.iter().map(|m| m.offset.parse().unwrap()).collect()
    };
    // A hole inside the range; its end removed with later messages after it; its end
    // removed as the subject's last message.
    assert_eq!(offsets(0, a_seqs[3]), [a_seqs[0], a_seqs[1], a_seqs[3]]);
    assert_eq!(offsets(a_seqs[1], a_seqs[2]), Vec::<u64>::new());
    assert_eq!(offsets(a_seqs[3], a_seqs[5]), [a_seqs[4]]);
    // The subject's last message deleted: nats-server 2.9 finds no last message then, and
    // the source walks the headers instead.
    assert_eq!(src.end_offset(&a, &0, None).unwrap(), (a_seqs[4], Some(4)));
    assert_eq!(
        src.end_offset(&a, &0, Some(2)).unwrap(),
        (a_seqs[1], Some(2))
    );
    assert_eq!(
        src.end_offset(&a, &a_seqs[4], None).unwrap(),
        (a_seqs[4], Some(0))
    );
    let empty = f.subject("empty");
    assert_eq!(src.end_offset(&empty, &7, None).unwrap(), (7, Some(0)));
}

/// The word count end to end in `stream!`: four subjects in, counts published back to a
/// subject of the same stream, a non-UTF-8 payload counted as malformed, and a second
/// job resuming from the durable consumers reads only what came after.
#[test]
fn word_count_in_stream_from_subjects_to_a_subject() {
    use rill::prelude::*;
    use std::collections::BTreeMap;
    let Some(f) = Fixture::new("e2e") else {
        return;
    };
    let subjects = four(&f);
    let mut input: Vec<(String, Option<String>, Vec<u8>)> = (0..200)
        .map(|i| {
            let s = subjects[i % 4].clone();
            (
                s,
                None,
                format!("w{} w{} common", i % 7, i % 3).into_bytes(),
            )
        })
        .collect();
    input.push((subjects[0].clone(), None, vec![0xff, 0xfe]));
    f.publish(&input);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (_, _, p) in &input {
        if let Ok(line) = std::str::from_utf8(p) {
            for w in line.split_whitespace() {
                *expected.entry(w.to_string()).or_default() += 1;
            }
        }
    }
    let out = f.subject("out");
    // Both jobs run on a manual clock from 0, so their batch times repeat: each gets a
    // message-id prefix of its own, or the stream would drop the second job's counts as
    // replays of the first's.
    let run = |start_at: StartAt, ids: &str| {
        let ctx = StreamingContext::manual(Duration::from_secs(1));
        let options = JetStreamOptions::default().start_at(start_at).durable("wc");
        let input = jetstream_strings(&f.url, &f.name, subjects.clone(), options);
        let sink = JetStreamSink::new(&f.url, &out).id_prefix(ids);
        stream! { ctx;
            let msgs = source(input);
            msgs.flat_map(|m| m.value.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .map(|w| (w, 1u64))
                .reduce_by_key(|a, b| a + b)
                .write_to(sink);
        }
        ctx.start().unwrap();
        ctx.advance(1).unwrap();
        let malformed = ctx.malformed_records();
        ctx.stop().unwrap();
        malformed
    };
    assert_eq!(
        run(StartAt::Earliest, "first"),
        1,
        "the non-UTF-8 payload is counted"
    );
    let counts: BTreeMap<String, u64> = f
        .messages(&out)
        .iter()
        .map(|m| {
            let key = m.headers.get("key").unwrap().as_str().to_string();
            let n = std::str::from_utf8(&m.payload).unwrap().parse().unwrap();
            (key, n)
        })
        .collect();
    assert_eq!(counts, expected);
    // The durable consumers hold the position: a job resuming there sees nothing old.
    let before = f.messages(&out).len();
    f.publish(&[(subjects[2].clone(), None, b"late".to_vec())]);
    assert_eq!(run(StartAt::Committed, "second"), 0);
    let after = f.messages(&out);
    assert_eq!(after.len(), before + 1, "only the new message is counted");
    let last = after.last().unwrap();
    assert_eq!(last.headers.get("key").unwrap().as_str(), "late");
}
