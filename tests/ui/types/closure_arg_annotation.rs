use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let a = queue_stream(vec![vec![String::from("a")]]);
        a.map(|x: u64| x + 1).print();
    };
}
