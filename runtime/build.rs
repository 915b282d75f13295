//! Declares every file of `src/ops/` as a public module of `ops` (see
//! `src/ops/mod.rs`), so an operator's runtime half is its file alone, with no `pub mod`
//! line to add as well.

include!("build_support/declare_modules.rs");

fn main() {
    declare_modules("src/ops", "ops_modules.rs", "pub ");
}
