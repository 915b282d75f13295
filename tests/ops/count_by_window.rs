use crate::common::*;
use rill::prelude::*;

#[test]
fn counts_the_window_and_zero_once_data_was_seen() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let xs = queue_stream(vec![vec![], vec!["a"], vec!["a", "b"], vec!["a", "b", "c"], vec![], vec![], vec![]]);
            xs.count_by_window(secs(2), secs(1)).collect()
        };
        run(&ctx, 7, &out)
    });
    // Nothing before the first element (Spark's single-key inverse reduce), then the
    // window's count, 0 for an empty window.
    assert_eq!(
        got,
        vec![
            vec![],
            vec![1u64],
            vec![3],
            vec![5],
            vec![3],
            vec![0],
            vec![0]
        ]
    );
}

#[test]
fn slides_every_other_batch() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        queue_stream(vec![vec![1], vec![2, 3], vec![4], vec![]]).count_by_window(secs(3), secs(2)).collect()
    };
    assert_eq!(run_windowed(&ctx, 4, &out), vec![vec![3u64], vec![3]]);
}
