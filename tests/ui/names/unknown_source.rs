use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = qeue_stream(vec![vec![1]]);
        a.print();
    };
}
