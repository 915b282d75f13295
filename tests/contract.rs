//! The API contract of DESIGN.md, compiled unchanged.

use rill::prelude::*;

fn sorted<T: Ord>(mut batches: Vec<Vec<T>>) -> Vec<Vec<T>> {
    for b in &mut batches {
        b.sort();
    }
    batches
}

#[test]
fn contract_word_count() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = StreamingContext::manual(Duration::from_secs(1));

    let out = stream! { ctx;
        let lines  = queue_stream(vec![vec!["a b", "a"], vec!["b"]]); // one Vec per batch
        let counts = lines
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b);
        counts.print();                  // Spark's print(): header + first 10 records
        counts.collect()                 // the block's value: a handle to every batch's output
    };
    ctx.start()?;
    ctx.advance(2)?; // manual clock: run exactly 2 batches, synchronously
    let batches: Vec<Vec<(String, u64)>> = out.take(); // one Vec per batch, in batch order
    ctx.stop()?;
    assert_eq!(
        sorted(batches),
        vec![
            vec![("a".to_string(), 2), ("b".to_string(), 1)],
            vec![("b".to_string(), 1)]
        ]
    );
    Ok(())
}

#[test]
fn contract_constructors() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = StreamingContext::new(Duration::from_secs(1)); // parallelism = all cores
    assert!(ctx.parallelism() >= 1);
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(500))
        .parallelism(2)
        .checkpoint_dir("ckpt") // needed by stateful operators for recovery
        .build()?;
    assert_eq!(ctx.parallelism(), 2);
    let manual = StreamingContext::builder()
        .batch_interval(Duration::from_millis(500))
        .parallelism(3)
        .manual_clock()
        .build()?;
    assert!(manual.is_manual());
    Ok(())
}
