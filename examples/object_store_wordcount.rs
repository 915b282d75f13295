//! Running word totals from objects to objects, checkpointed in the store: the README's
//! "Object stores" snippet. Needs the `object-store` feature and the `AWS_*` variables
//! (see the README); the bucket must exist:
//!
//! ```sh
//! AWS_ENDPOINT_URL=http://127.0.0.1:5055 AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=test \
//!   AWS_SECRET_ACCESS_KEY=test cargo run --features object-store --example object_store_wordcount s3://rill-test/demo
//! ```
//!
//! then put objects under `s3://rill-test/demo/in/`; every 2 s the totals appear under
//! `s3://rill-test/demo/out/`. Stopped and started again, it resumes from its checkpoint.

use rill::prelude::*;

fn main() -> rill::Result<()> {
    // s3://BUCKET/PREFIX: input under PREFIX/in/, output and checkpoint beside it.
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "s3://rill-test/demo".into());
    let checkpoint = format!("{base}/checkpoint");
    let ctx = StreamingContext::get_or_create(&checkpoint, || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(2))
            .checkpoint_dir(&checkpoint)
            .build()?;
        let (input, output) = (format!("{base}/in/"), format!("{base}/out/counts"));
        stream! { ctx;
            text_file_stream(input)
                .flat_map(|l| l.split(' '))
                .map(|w| (w.to_string(), 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                .save_as_text_files(output, "txt");
        }
        Ok(ctx)
    })?;
    ctx.start()?;
    ctx.await_termination()
}
