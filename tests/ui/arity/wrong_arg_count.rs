use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![1]]);
        a.map().print();
        a.reduce_by_key(|x, y| x + y, 4).print();
        a.print_n().print();
    };
}
