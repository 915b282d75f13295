use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        words.print();
        let words = queue_stream(vec![vec!["a"]]);
    };
}
