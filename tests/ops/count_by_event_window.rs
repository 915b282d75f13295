use crate::common::*;
use crate::with_watermark::{ev, win};
use rill::prelude::*;

#[test]
fn counts_every_record_of_a_window_over_all_partitions() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![
                vec![ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 14)],
                vec![ev("e", 9), ev("f", 15)],
                vec![ev("g", 31)],
                vec![],
            ])
            .with_watermark(|(_, t)| *t, secs(1))
            .count_by_event_window(secs(10), secs(10))
            .collect()
        };
        run(&ctx, 4, &out)
    });
    // Watermarks: none, 13 s, 14 s, 30 s.
    assert_eq!(
        got,
        vec![
            vec![],
            // (e, 9 s) came at 13 s, after [0, 10) closed: late.
            vec![(win(0, 10), 3)],
            vec![],
            vec![(win(10, 20), 2)],
        ]
    );
}

#[test]
fn update_mode_emits_the_windows_that_changed_in_window_order() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 12), ev("b", 1), ev("c", 2)], vec![ev("d", 13)], vec![ev("e", 3)]])
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_event_window(secs(10), secs(10), Emit::update())
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(win(0, 10), 2), (win(10, 20), 1)],
            vec![(win(10, 20), 2)],
            vec![],
        ]
    );
}

#[test]
fn sliding_windows_count_a_record_in_each() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 7), ev("b", 2)], vec![ev("z", 100)], vec![]])
                .with_watermark(|(_, t)| *t, secs(0))
                .count_by_event_window(secs(10), secs(5))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![vec![], vec![], vec![(win(0, 10), 2), (win(5, 15), 1)]]
    );
}
