//! The README's tour, as written there.

#[test]
fn readme_tour() -> Result<(), Box<dyn std::error::Error>> {
    use rill::prelude::*;

    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let out = stream! { ctx;
        let clicks = queue_stream(vec![vec![("ann", "/"), ("bob", "/cart"), ("ann", "/cart")], vec![]]);
        let users  = queue_stream(vec![vec![("ann", 31u32), ("bob", 45)], vec![]]);
        let per_user = clicks.map(|(user, _)| (user, 1u32)).reduce_by_key(|a, b| a + b);
        per_user.join(users).print();     // ("ann", (2, 31)), ("bob", (1, 45)) in some order
        per_user.count().collect()        // [[2], [0]]: count() of an empty batch is 0, as in Spark
    };
    ctx.start()?;
    ctx.advance(2)?;
    assert_eq!(out.take(), vec![vec![2], vec![0]]);
    Ok(())
}

#[test]
fn readme_shows_the_word_count_as_it_stands() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/examples/wordcount.rs")).unwrap();
    let start = example
        .find("#[rill::main")
        .expect("the example has a #[rill::main] function");
    let end = start + example[start..].find("\n}\n").expect("fn run ends") + 3;
    assert!(
        readme.contains(&example[start..end]),
        "README.md must quote the main function of examples/wordcount.rs as it stands"
    );
}
