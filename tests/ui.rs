//! Compile-fail tests of the `stream!` macro: every error points at the user's token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
