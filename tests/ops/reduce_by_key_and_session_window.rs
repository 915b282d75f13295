use crate::common::*;
use crate::with_watermark::win;
use rill::prelude::*;

/// `(bidder, (event ms, price))`.
fn bid(k: &'static str, secs: u64, price: u64) -> (&'static str, (u64, u64)) {
    (k, (secs * 1000, price))
}

#[test]
fn a_record_bridging_two_sessions_merges_them() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![
                vec![bid("x", 1, 10), bid("x", 18, 5), bid("y", 3, 1)],
                vec![bid("x", 9, 7)],   // [9, 19) overlaps [1, 11) and [18, 28)
                vec![],
                vec![bid("z", 200, 0)],
                vec![bid("x", 5, 1)],   // watermark 100 s: late
            ])
            .with_watermark(|(_, (t, _))| *t, secs(100))
            // The latest time and the total price of each session.
            .reduce_by_key_and_session_window(|a, b| (a.0.max(b.0), a.1 + b.1), secs(10), Emit::update())
            .collect()
        };
        run(&ctx, 5, &out)
    });
    let x = |w, k: &str, t: u64, p: u64| (w, s(k), (t * 1000, p));
    assert_eq!(
        got,
        vec![
            vec![
                x(win(1, 11), "x", 1, 10),
                x(win(3, 13), "y", 3, 1),
                x(win(18, 28), "x", 18, 5),
            ],
            vec![x(win(1, 28), "x", 18, 22)],
            vec![],
            vec![x(win(200, 210), "z", 200, 0)],
            vec![],
        ]
    );
}

#[test]
fn append_emits_a_session_once_after_its_gap_and_lateness() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![
                vec![bid("x", 1, 10)],
                vec![bid("x", 14, 5)],   // watermark 1 s
                vec![bid("x", 8, 2)],    // watermark 14 s: [1, 11) closed but within 5 s of lateness
                vec![bid("w", 40, 0)],
                vec![],
            ])
            .with_watermark(|(_, (t, _))| *t, secs(0))
            .reduce_by_key_and_session_window(|a, b| (a.0.max(b.0), a.1 + b.1), secs(10), Emit::append().allowed_lateness(secs(5)))
            .collect()
        };
        run(&ctx, 5, &out)
    });
    // x at 8 s joins [1, 11) and bridges it to [14, 24): [1, 24), emitted when the
    // watermark reaches 24 + 5 s.
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec![],
            vec![],
            vec![(win(1, 24), s("x"), (14_000, 17))],
        ]
    );
}
