use crate::common::*;
use crate::with_watermark::{ev, win};
use rill::prelude::*;

#[test]
fn the_highest_record_of_each_window_as_nexmark_q7() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            // (price, event time)
            queue_stream(vec![
                vec![(30u64, 1000u64), (70, 4000), (20, 12000)],
                vec![(90, 9000), (10, 15000)],
                vec![(5, 25000)],
                vec![],
            ])
            .with_watermark(|(_, t)| *t, secs(2))
            .reduce_by_event_window(|a, b| if a.0 >= b.0 { a } else { b }, secs(10), secs(10))
            .collect()
        };
        run(&ctx, 4, &out)
    });
    // Watermarks: none, 10 s, 13 s, 23 s. (90, 9 s) came at 10 s: [0, 10) had closed.
    assert_eq!(
        got,
        vec![
            vec![],
            vec![(win(0, 10), (70, 4000))],
            vec![],
            vec![(win(10, 20), (20, 12000))],
        ]
    );
}

#[test]
fn update_mode_and_allowed_lateness() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 1), ev("b", 12)], vec![ev("c", 5)], vec![ev("z", 15)], vec![ev("d", 6)]])
                // What a window keeps is checkpointed: owned records.
                .map(|(k, t)| (k.to_string(), t))
                .with_watermark(|(_, t)| *t, secs(0))
                .reduce_by_event_window(|a, b| if a.1 >= b.1 { a } else { b }, secs(10), secs(10), Emit::update().allowed_lateness(secs(4)))
                .collect()
        };
        run(&ctx, 4, &out)
    });
    // (c, 5 s) at watermark 12 s is within [0, 10)'s lateness (until 14 s): re-emitted;
    // (d, 6 s) at 15 s is not.
    assert_eq!(
        got,
        vec![
            vec![(win(0, 10), (s("a"), 1000)), (win(10, 20), (s("b"), 12000))],
            vec![(win(0, 10), (s("c"), 5000))],
            vec![(win(10, 20), (s("z"), 15000))],
            vec![],
        ]
    );
}
