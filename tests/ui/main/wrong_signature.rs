#[rill::main(batch_interval = 1, colour = "red")]
fn main(ctx: rill::StreamingContext) -> rill::Result<()> {
    drop(ctx);
    Ok(())
}
