use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![("a", 1)]]);
        a.state_snapshots().print();
    };
}
