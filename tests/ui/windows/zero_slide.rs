use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![("a", 1)]]);
        a.reduce_by_key_and_window(|x, y| x + y, Duration::from_secs(30), Duration::from_secs(0)).print();
    };
}
