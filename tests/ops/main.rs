//! Integration tests of every operator, one module per operator, with outputs worked out
//! by hand. Each pipeline runs at parallelism 1 and 4 and must give the same multisets.

mod common;

mod cogroup;
mod count;
mod count_by_value;
mod filter;
mod flat_map;
mod flat_map_values;
mod forecast_arima;
mod glom;
mod group_by_key;
mod join;
mod map;
mod map_partitions;
mod map_values;
mod reduce;
mod reduce_by_key;
mod repartition;
mod shared_streams;
mod transform;
mod transform_streams;
mod transform_with;
mod union;

mod count_by_value_and_window;
mod count_by_window;
mod map_with_state;
mod reduce_by_key_and_window;
mod reduce_by_key_and_window_inv;
mod reduce_by_window;
mod running_reduce_by_key;
mod sliding_by_key;
mod update_state_by_key;
mod window;
