use rill::prelude::*;

fn main() {
    let out = stream! { StreamingContext::manual(Duration::from_secs(1));
        let a = queue_stream(vec![vec![1]]);
        a.window(Duration::from_millis(1500), Duration::from_secs(1)).collect()
    };
    let _ = out;
}
