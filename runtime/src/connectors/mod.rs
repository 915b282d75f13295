#[cfg(feature = "nats")]
pub mod nats;
