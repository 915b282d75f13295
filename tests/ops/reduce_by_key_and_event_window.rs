use crate::common::*;
use crate::with_watermark::{ev, win};
use rill::prelude::*;

#[test]
fn reduces_each_keys_values_per_window_out_of_order() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![
                vec![ev("a", 4), ev("b", 9), ev("a", 11)],
                vec![ev("a", 2), ev("b", 12)],  // out of order, windows still open
                vec![ev("b", 30)],
                vec![],
            ])
            .with_watermark(|(_, t)| *t, secs(2))
            // The latest event time per key per window.
            .reduce_by_key_and_event_window(|a, b| a.max(b), secs(10), secs(10))
            .collect()
        };
        run(&ctx, 4, &out)
    });
    let keyed = |v: &[(EventWindow, &str, u64)]| {
        v.iter()
            .map(|(w, k, t)| (*w, s(k), *t * 1000))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            // Batch 3's watermark is 12 - 2 = 10 s: [0, 10) closes.
            keyed(&[(win(0, 10), "a", 4), (win(0, 10), "b", 9)]),
            // Batch 4's is 28 s: [10, 20) closes.
            keyed(&[(win(10, 20), "a", 11), (win(10, 20), "b", 12)]),
        ]
    );
}

#[test]
fn update_mode_emits_running_values_and_sliding_windows_overlap() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![ev("a", 6)], vec![ev("a", 8)], vec![]])
                .with_watermark(|(_, t)| *t, secs(0))
                .reduce_by_key_and_event_window(|a, b| a + b, secs(10), secs(5), Emit::update())
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(win(0, 10), s("a"), 6000), (win(5, 15), s("a"), 6000)],
            vec![(win(0, 10), s("a"), 14000), (win(5, 15), s("a"), 14000)],
            vec![],
        ]
    );
}

#[test]
fn windows_not_multiples_of_the_batch_interval_are_fine() {
    // Event-time windows are not batches: 2.5 s windows over 1 s batches.
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![("k", 100u64), ("k", 2400), ("k", 2600)], vec![("k", 9000)], vec![]])
                .with_watermark(|(_, t)| *t, Duration::from_millis(0))
                .reduce_by_key_and_event_window(|a, b| a + b, Duration::from_millis(2500), Duration::from_millis(2500))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![],
            vec![(EventWindow::new(0, 2500), s("k"), 2500)],
            vec![(EventWindow::new(2500, 5000), s("k"), 2600),],
        ]
    );
}

#[test]
fn a_slide_longer_than_the_window_is_refused_at_start() {
    let ctx = ctx(1);
    let _out = stream! { ctx;
        queue_stream(vec![vec![ev("a", 1)]])
            .with_watermark(|(_, t)| *t, secs(0))
            .reduce_by_key_and_event_window(|a, b| a + b, secs(5), secs(10))
            .collect()
    };
    let err = ctx.start().expect_err("refused");
    assert!(
        err.to_string()
            .contains("must not be longer than the window"),
        "{err}"
    );
}
