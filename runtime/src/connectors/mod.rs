//! Connectors to brokers, each behind a cargo feature: sources built on
//! [`DirectSource`](crate::sources::DirectSource) (read by exact offset ranges, logged
//! for recovery, committed to the broker) and sinks built on [`Sink`](crate::sinks::Sink).
//!
//! - `redis` (feature `redis`): Redis Streams, `redis::redis_stream` and
//!   `redis::RedisStreamSink`; hashes and sorted sets for serving results,
//!   `redis::RedisHashSink` and `redis::RedisSortedSetSink`.
//! - `postgres` (feature `postgres`): `postgres::PostgresSink` and
//!   `postgres::postgres_table`.
//! - `nats` (feature `nats`): NATS JetStream, `nats::jetstream` and
//!   `nats::JetStreamSink`.

#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "nats")]
pub mod nats;
