use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let n = 1 + 2;
        println!("{}", n);
    };
}
