//! Output operators: what happens to a stream's records at every batch.

pub mod collect;
pub mod for_each;
pub mod print;
pub mod text_files;
