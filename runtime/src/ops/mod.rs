//! Runtime halves of the operators: what generated code calls outside its fused loops.
//!
//! One file per operator (or per family, for the joins). The fused per-record work
//! (map, filter, flat_map, ...) is generated inline and has no runtime function.

pub mod cogroup;
pub mod count;
pub mod count_by_value;
pub mod count_by_value_and_window;
pub mod count_by_window;
pub mod forecast_arima;
pub mod glom;
pub mod group_by_key;
pub mod join;
pub mod keyed_state;
pub mod map_partitions;
pub mod map_with_state;
pub mod reduce;
pub mod reduce_by_key;
pub mod reduce_by_key_and_window;
pub mod reduce_by_key_and_window_inv;
pub mod reduce_by_window;
pub mod repartition;
pub mod running_reduce_by_key;
pub mod shuffle;
pub mod sliding_by_key;
pub mod transform;
pub mod transform_streams;
pub mod transform_with;
pub mod union;
pub mod update_state_by_key;
pub mod window;
