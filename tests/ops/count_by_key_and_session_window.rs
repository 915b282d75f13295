use crate::common::*;
use crate::with_watermark::{ev, keyed, win};
use rill::prelude::*;

/// Bids `(bidder, event time)`: a 5 s delay, sessions with a 10 s gap.
fn bids() -> Vec<Vec<(&'static str, u64)>> {
    vec![
        vec![ev("a", 1), ev("a", 5), ev("b", 2), ev("a", 30)],
        vec![ev("a", 22)],
        vec![ev("a", 12), ev("a", 45)],
        vec![ev("a", 36)],
        vec![],
        vec![ev("c", 100)],
        vec![],
    ]
}

#[test]
fn sessions_per_key_merge_split_and_close_with_the_watermark_as_nexmark_q11() {
    let got = both(|p| {
        let ctx = ctx(p);
        let (out, late) = stream! { ctx;
            let sessions = queue_stream(bids())
                .with_watermark(|(_, t)| *t, secs(5))
                .count_by_key_and_session_window(secs(10));
            (sessions.collect(), sessions.late_records().collect())
        };
        let out = run(&ctx, 7, &out);
        let late = late
            .take()
            .into_iter()
            .map(|b| b.into_iter().map(|(k, t)| (win(0, 0), k, t)).collect())
            .collect::<Vec<Vec<_>>>();
        out.into_iter().chain(late).collect::<Vec<_>>()
    });
    let (out, late) = got.split_at(7);
    assert_eq!(
        out,
        vec![
            vec![],
            // Watermark 25 s: a's [1, 15) (1 s and 5 s, merged) and b's [2, 12) close;
            // a at 22 s joins [30, 40), making [22, 40).
            keyed(&[(win(1, 15), "a", 2), (win(2, 12), "b", 1)]),
            // a at 12 s is 10 s from 22 s (two sessions) and its own [12, 22) had closed:
            // late. a at 45 s starts [45, 55).
            vec![],
            // Watermark 40 s closes [22, 40) before a at 36 s arrives, which joins
            // [45, 55): [36, 55).
            keyed(&[(win(22, 40), "a", 2)]),
            vec![],
            vec![],
            keyed(&[(win(36, 55), "a", 2)]),
        ]
    );
    assert_eq!(late[2], vec![(win(0, 0), s("a"), 12_000)]);
    assert!(late.iter().enumerate().all(|(i, b)| i == 2 || b.is_empty()));
}

#[test]
fn update_mode_emits_every_session_that_changed() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(bids())
                .with_watermark(|(_, t)| *t, secs(5))
                .count_by_key_and_session_window(secs(10), Emit::update())
                .collect()
        };
        run(&ctx, 7, &out)
    });
    assert_eq!(
        got,
        vec![
            keyed(&[
                (win(1, 15), "a", 2),
                (win(2, 12), "b", 1),
                (win(30, 40), "a", 1)
            ]),
            keyed(&[(win(22, 40), "a", 2)]),
            keyed(&[(win(45, 55), "a", 1)]),
            keyed(&[(win(36, 55), "a", 2)]),
            vec![],
            keyed(&[(win(100, 110), "c", 1)]),
            vec![],
        ]
    );
}

#[test]
fn records_exactly_a_gap_apart_are_two_sessions() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 0), ev("a", 10), ev("a", 19)], vec![ev("z", 99)], vec![]])
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_key_and_session_window(secs(10))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        // Batch 2's watermark, 19 s, closes [0, 10); batch 3's, 99 s, [10, 29).
        vec![
            vec![],
            keyed(&[(win(0, 10), "a", 1)]),
            keyed(&[(win(10, 29), "a", 2)]),
        ]
    );
}
