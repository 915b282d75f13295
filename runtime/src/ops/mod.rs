//! Runtime halves of the operators: what generated code calls outside its fused loops.
//!
//! One file per operator (or per family, for the joins). The fused per-record work
//! (map, filter, flat_map, ...) is generated inline and has no runtime function.

pub mod cogroup;
pub mod count;
pub mod count_by_value;
pub mod group_by_key;
pub mod join;
pub mod reduce;
pub mod reduce_by_key;
pub mod repartition;
pub mod shuffle;
pub mod transform;
pub mod union;
