use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let counts = queue_stream(vec![vec![1]]);
        cuonts.print();
    };
}
