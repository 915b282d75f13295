//! Integration tests of every operator, one module per operator, with outputs worked out
//! by hand. Each pipeline runs at parallelism 1 and 4 and must give the same multisets.

mod common;

mod cogroup;
mod count;
mod count_by_value;
mod filter;
mod flat_map;
mod flat_map_values;
mod group_by_key;
mod join;
mod map;
mod map_values;
mod reduce;
mod reduce_by_key;
mod repartition;
mod shared_streams;
mod transform;
mod union;
