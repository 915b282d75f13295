use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![("a", 1u64)]]).with_watermark(|(_, t)| *t, Duration::from_secs(1));
        a.late_records().print();
    };
}
