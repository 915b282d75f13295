use rill::prelude::*;

fn main() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.fletmap(|l| l.split(' ')).print();
        lines.reduceByKey(|a, b| a + b).print();
    };
}
