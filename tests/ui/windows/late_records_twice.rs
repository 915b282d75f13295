use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![("a", 1u64)]])
            .with_watermark(|(_, t)| *t, Duration::from_secs(1))
            .count_by_key_and_event_window(Duration::from_secs(10), Duration::from_secs(10));
        a.late_records().print();
        a.late_records().count().print();
    };
}
