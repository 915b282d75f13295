use crate::common::*;
use crate::with_watermark::ev;
use rill::prelude::*;

#[test]
fn late_records_are_a_stream_and_are_never_dropped_silently() {
    let got = both(|p| {
        let ctx = ctx(p);
        let (global, keyed) = stream! { ctx;
            let w = queue_stream(vec![vec![ev("a", 20)], vec![ev("b", 3), ev("c", 25), ev("d", 9)], vec![ev("e", 10)]])
                .with_watermark(|(_, t)| *t, secs(10));
            // Batch 2's watermark is 10 s: [0, 10) has closed, so b and d are late.
            let g = w.count_by_event_window(secs(10), secs(10));
            let k = w.count_by_key_and_event_window(secs(10), secs(10));
            (g.late_records().map(|(k, t)| (k.to_string(), t)).collect(), k.late_records().count().collect())
        };
        let global = run(&ctx, 3, &global);
        let counts = keyed.take();
        global
            .into_iter()
            .chain(
                counts
                    .into_iter()
                    .map(|c| c.into_iter().map(|n| (s("count"), n)).collect()),
            )
            .collect::<Vec<_>>()
    });
    assert_eq!(
        got,
        vec![
            vec![],
            vec![(s("b"), 3000), (s("d"), 9000)],
            vec![],
            vec![(s("count"), 0)],
            vec![(s("count"), 2)],
            vec![(s("count"), 0)],
        ]
    );
}

#[test]
fn late_records_are_reported_in_the_batch_metrics() {
    let ctx = ctx(2);
    let _out = stream! { ctx;
        queue_stream(vec![vec![ev("a", 20)], vec![ev("b", 3), ev("d", 9)], vec![]])
            .with_watermark(|(_, t)| *t, secs(0))
            .count_by_key_and_event_window(secs(10), secs(10))
            .collect()
    };
    run(&ctx, 3, &_out);
    let late: Vec<u64> = ctx.batch_infos().iter().map(|b| b.late_records).collect();
    assert_eq!(late, vec![0, 2, 0]);
}
