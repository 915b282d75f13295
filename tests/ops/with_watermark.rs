use crate::common::*;
use rill::prelude::*;

/// A record `(key, event time)` at `secs` seconds of event time.
pub fn ev(k: &'static str, secs: u64) -> (&'static str, u64) {
    (k, secs * 1000)
}

/// The event window `[a s, b s)`.
pub fn win(a: u64, b: u64) -> EventWindow {
    EventWindow::new(a * 1000, b * 1000)
}

/// Owned `(window, key, n)` triples.
pub fn keyed(v: &[(EventWindow, &str, u64)]) -> Vec<(EventWindow, String, u64)> {
    v.iter().map(|(w, k, n)| (*w, s(k), *n)).collect()
}

#[test]
fn passes_records_through_unchanged() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 5), ev("b", 1)], vec![ev("c", 2)]])
                .with_watermark(|(_, t)| *t, secs(1))
                .map(|(k, t)| (k.to_string(), t))
                .collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(
        got,
        vec![vec![(s("a"), 5000), (s("b"), 1000)], vec![(s("c"), 2000)]]
    );
}

#[test]
fn the_watermark_is_the_maximum_over_partitions_of_earlier_batches() {
    // One late-running partition does not hold the watermark back (Spark's global
    // maximum, not Flink's per-partition minimum): 30 s in any partition closes
    // [0, 10) at the next batch, with a delay of 5 s.
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 1), ev("b", 2), ev("c", 30), ev("d", 3)], vec![], vec![]])
                .with_watermark(|(_, t)| *t, secs(5))
                .count_by_event_window(secs(10), secs(10))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(got, vec![vec![], vec![(win(0, 10), 3)], vec![]]);
}

#[test]
fn the_delay_holds_windows_back() {
    // With a delay of 5 s, event time 14 s makes the watermark 9 s: [0, 10) stays open,
    // and the record at 8 s in batch 2 is counted; 15 s closes it.
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 1), ev("a", 14)], vec![ev("a", 8)], vec![ev("a", 15)], vec![]])
                .with_watermark(|(_, t)| *t, secs(5))
                .count_by_event_window(secs(10), secs(10))
                .collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(got, vec![vec![], vec![], vec![], vec![(win(0, 10), 2)]]);
}

#[test]
fn applies_to_several_windowed_operators_with_one_watermark() {
    let ctx = ctx(2);
    let (all, per_key) = stream! { ctx;
        let w = queue_stream(vec![vec![ev("a", 1), ev("b", 2)], vec![ev("a", 11)], vec![]])
            .with_watermark(|(_, t)| *t, secs(0));
        (w.count_by_event_window(secs(10), secs(10)).collect(),
         w.count_by_key_and_event_window(secs(10), secs(10)).collect())
    };
    // [0, 10) closes at batch 3 (watermark 11 s) in both.
    assert_eq!(
        run(&ctx, 3, &all),
        vec![vec![], vec![], vec![(win(0, 10), 2)]]
    );
    assert_eq!(
        sorted(per_key.take()),
        vec![
            vec![],
            vec![],
            keyed(&[(win(0, 10), "a", 1), (win(0, 10), "b", 1)])
        ]
    );
}
