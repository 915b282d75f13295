#[rill::main]
fn main() -> rill::Result<()> {
    Ok(())
}
