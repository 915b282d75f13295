use crate::common::*;
use crate::with_watermark::{ev, keyed, win};
use rill::prelude::*;

/// The batches of the table in docs/EVENT_TIME.md.
fn table() -> Vec<Vec<(&'static str, u64)>> {
    vec![
        vec![ev("a", 1), ev("a", 5)],
        vec![ev("a", 12), ev("a", 3)],
        vec![ev("a", 4)],
        vec![ev("a", 15)],
        vec![],
        vec![ev("a", 21)],
        vec![],
    ]
}

#[test]
fn append_emits_each_window_once_when_the_watermark_passes_its_end() {
    let got = both(|p| {
        let ctx = ctx(p);
        let (out, late) = stream! { ctx;
            let counts = queue_stream(table())
                .with_watermark(|(_, t)| *t, secs(1))
                .count_by_key_and_event_window(secs(10), secs(10));
            (counts.collect(), counts.late_records().collect())
        };
        let out = run(&ctx, 7, &out);
        let late: Vec<Vec<(EventWindow, String, u64)>> = late
            .take()
            .into_iter()
            .map(|b| b.into_iter().map(|(k, t)| (win(0, 0), k, t)).collect())
            .collect();
        out.into_iter().chain(late).collect::<Vec<_>>()
    });
    let (out, late) = got.split_at(7);
    assert_eq!(
        out,
        vec![
            vec![],
            vec![],
            // (a, 3 s) was out of order but in time; (a, 4 s) came when batch 3's
            // watermark, 11 s, had closed [0, 10).
            keyed(&[(win(0, 10), "a", 3)]),
            vec![],
            vec![],
            vec![],
            keyed(&[(win(10, 20), "a", 2)]),
        ]
    );
    assert_eq!(
        late,
        vec![
            vec![],
            vec![],
            vec![(win(0, 0), s("a"), 4000)],
            vec![],
            vec![],
            vec![],
            vec![],
        ]
    );
}

#[test]
fn update_emits_the_windows_that_changed_in_each_batch() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(table())
                .with_watermark(|(_, t)| *t, secs(1))
                .count_by_key_and_event_window(secs(10), secs(10), Emit::update())
                .collect()
        };
        run(&ctx, 7, &out)
    });
    assert_eq!(
        got,
        vec![
            keyed(&[(win(0, 10), "a", 2)]),
            keyed(&[(win(0, 10), "a", 3), (win(10, 20), "a", 1)]),
            vec![],
            keyed(&[(win(10, 20), "a", 2)]),
            vec![],
            keyed(&[(win(20, 30), "a", 1)]),
            vec![],
        ]
    );
}

/// Batches for allowed lateness: no delay, 10 s tumbling windows, 5 s of lateness.
fn lateness() -> Vec<Vec<(&'static str, u64)>> {
    vec![
        vec![ev("a", 1)],
        vec![ev("a", 12)],
        vec![ev("a", 3)],
        vec![ev("a", 14)],
        vec![],
        vec![ev("a", 16)],
        vec![ev("a", 2)],
        vec![],
    ]
}

#[test]
fn allowed_lateness_delays_append_and_counts_what_came_within_it() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(lateness())
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_key_and_event_window(secs(10), secs(10), Emit::append().allowed_lateness(secs(5)))
                .collect()
        };
        run(&ctx, 8, &out)
    });
    // (a, 3 s) came at watermark 12 s, after [0, 10) ended but within its lateness:
    // counted. (a, 2 s) came at 16 s >= 10 + 5: late. The window is emitted once, at 16 s.
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            keyed(&[(win(0, 10), "a", 2)]),
            vec![],
        ]
    );
}

#[test]
fn allowed_lateness_in_update_mode_re_emits_a_window_a_late_record_changed() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(lateness())
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_key_and_event_window(secs(10), secs(10), Emit::update().allowed_lateness(secs(5)))
                .collect()
        };
        run(&ctx, 8, &out)
    });
    assert_eq!(
        got,
        vec![
            keyed(&[(win(0, 10), "a", 1)]),
            keyed(&[(win(10, 20), "a", 1)]),
            keyed(&[(win(0, 10), "a", 2)]),
            keyed(&[(win(10, 20), "a", 2)]),
            vec![],
            keyed(&[(win(10, 20), "a", 3)]),
            vec![],
            vec![],
        ]
    );
}

#[test]
fn sliding_windows_count_a_record_in_each_of_its_windows() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 7), ev("b", 12), ev("a", 3)], vec![ev("z", 40)], vec![]])
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_key_and_event_window(secs(10), secs(5))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    // a at 7 s is in [0, 10) and [5, 15); a at 3 s in [0, 10) only; b at 12 s in
    // [5, 15) and [10, 20). Batch 2's watermark (12 s) closes [0, 10), batch 3's (40 s)
    // the others.
    assert_eq!(
        got,
        vec![
            vec![],
            keyed(&[(win(0, 10), "a", 2)]),
            keyed(&[
                (win(5, 15), "a", 1),
                (win(5, 15), "b", 1),
                (win(10, 20), "b", 1),
            ]),
        ]
    );
}

#[test]
fn keys_are_counted_apart_in_the_same_window() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 1), ev("b", 2), ev("a", 3), ev("c", 9)], vec![ev("b", 25)], vec![]])
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_key_and_event_window(secs(10), secs(10))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            keyed(&[
                (win(0, 10), "a", 2),
                (win(0, 10), "b", 1),
                (win(0, 10), "c", 1)
            ]),
        ]
    );
}

#[test]
fn results_shuffle_again_by_window_as_nexmark_q5() {
    // The auction with the most bids per sliding window: the windows' counts keyed by
    // window and reduced again (append mode closes every key of a window in one batch).
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![
                vec![ev("a1", 1), ev("a2", 2), ev("a1", 3), ev("a2", 6), ev("a2", 7), ev("a3", 8)],
                vec![ev("z", 30)],
                vec![],
            ])
            .with_watermark(|(_, t)| *t, secs(0))
            .count_by_key_and_event_window(secs(10), secs(5))
            .map(|(w, auction, n)| (w, (n, auction)))
            .reduce_by_key(|a, b| a.max(b))
            .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec![(win(0, 10), (3, s("a2"))), (win(5, 15), (2, s("a2"))),],
        ]
    );
}
