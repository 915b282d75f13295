use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![(1.5f64, 1u32)]]);
        a.reduce_by_key(|x, y| x + y).print();
    };
}
