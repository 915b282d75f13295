use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![1u32, 2]]);
        a.filter(|x| x + 1).print();
    };
}
