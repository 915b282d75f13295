//! What generated code calls: source registration, job registration and the call shims
//! that give each user closure its argument type. Not a stable API.

pub mod pick;

use crate::sinks::{Sink, SinkOutput};
use crate::sources::{Slot, Source, SourceControl, SourceEnv, SourceHandle};
use crate::{Batch, Partition, Result, StreamingContext, Time, into_parts};
use std::sync::Arc;

pub use crate::wire::Arena;

/// Calls `f` with a record by value (map, map_values, reduce functions).
#[inline(always)]
pub fn call_val<A, R>(a: A, f: impl FnOnce(A) -> R) -> R {
    f(a)
}

/// Calls `f` with a borrowed record; the result may borrow from it (flat_map, filter).
#[inline(always)]
pub fn call_ref<'a, A: ?Sized, R>(a: &'a A, f: impl FnOnce(&'a A) -> R) -> R {
    f(a)
}

/// Calls a two-argument function with two values of the same type (reduce functions).
#[inline(always)]
pub fn call2<A, R>(a: A, b: A, f: impl FnOnce(A, A) -> R) -> R {
    f(a, b)
}

/// A record taken from a partition by value: moved when the stage owns the partition.
#[inline(always)]
pub fn owned<T>(x: T) -> T {
    x
}

fn add_source<T: Send + 'static>(
    ctx: &StreamingContext,
    src: Arc<dyn SourceControl>,
    slot: Arc<Slot<T>>,
) -> SourceHandle<T> {
    let driver = &ctx.driver;
    if driver.run.is_started() {
        driver.jobs.error(format!(
            "{} was added after start(); define every stream before starting the context",
            src.describe()
        ));
    } else {
        driver.sources.add(src, slot.is_replicated());
    }
    SourceHandle::new(slot)
}

/// A source statement of `stream!`: registers the [`Source`] value its function
/// returned with the context.
pub fn source<T: Send + 'static, S: Source<T>>(
    ctx: &StreamingContext,
    value: S,
) -> SourceHandle<T> {
    let driver = &ctx.driver;
    let env = SourceEnv {
        partitions: driver.config.parallelism(),
        stats: driver.sources.stats(),
        limits: driver.config.receiver_limits(),
        file_remember: driver.config.file_remember(),
        interval: driver.config.interval(),
    };
    let (src, slot) = Box::new(value).register(&env);
    add_source(ctx, src, slot)
}

/// Registers the [`Sink`] of an output (`.write_to(sink)`, and the built-in outputs
/// `print`, `print_n` and `save_as_text_files`, which are sinks too) with the context
/// (set-up code): the context commits it after every batch whose outputs all succeeded.
pub fn sink_output<S: Send + 'static>(ctx: &StreamingContext, sink: S) -> SinkOutput<S> {
    let (out, commit) = SinkOutput::new(sink);
    ctx.driver.jobs.add_sink(commit);
    out
}

/// An output in a job: writes the partitions of the batch at `time` to the sink
/// registered by [`sink_output`].
pub fn write_to<T, S: Sink<T>, P: Partition<T>>(
    time: Time,
    partitions: Vec<P>,
    sink: &SinkOutput<S>,
) -> Result<()>
where
    T: Clone,
{
    sink.write(time, into_parts(partitions))
}

/// Registers a job with its plan text and the canonical form of its operator graph
/// (which the checkpoint's plan fingerprint is computed from); the streaming UI shows
/// the text of its plan.
pub fn register_job<F>(ctx: &StreamingContext, explain: &str, canonical: &str, job: F)
where
    F: FnMut(&Batch<'_>) -> Result<()> + Send + 'static,
{
    register_planned_job(ctx, explain, canonical, "null", job)
}

/// Registers a generated job as [`register_job`] does, with its plan as a JSON graph
/// (`stream!` makes it), which the streaming UI draws.
pub fn register_planned_job<F>(
    ctx: &StreamingContext,
    explain: &str,
    canonical: &str,
    graph: &str,
    job: F,
) where
    F: FnMut(&Batch<'_>) -> Result<()> + Send + 'static,
{
    let driver = &ctx.driver;
    if driver.run.is_started() {
        driver.jobs.error(
            "a pipeline was defined after start(); define it before starting the context".into(),
        );
        tracing::error!("a pipeline was defined after start() and will not run");
        return;
    }
    driver.jobs.add(explain, canonical, graph, Box::new(job));
}

/// Records a pipeline error found at definition time; `start()` reports it.
pub fn pipeline_error(ctx: &StreamingContext, message: String) {
    ctx.driver.jobs.error(message);
}

/// The number of partitions of a context (for generated setup code).
pub fn partitions(ctx: &StreamingContext) -> usize {
    ctx.driver.config.parallelism()
}

/// Calls a function of two arguments of different types (update functions).
#[inline(always)]
pub fn call_2<A, B, R>(a: A, b: B, f: impl FnOnce(A, B) -> R) -> R {
    f(a, b)
}

/// Calls a function of three arguments (the keyed update function).
#[inline(always)]
pub fn call3<A, B, C, R>(a: A, b: B, c: C, f: impl FnOnce(A, B, C) -> R) -> R {
    f(a, b, c)
}

/// Calls a function of four arguments (the time-aware update function).
#[inline(always)]
pub fn call4<A, B, C, D, R>(a: A, b: B, c: C, d: D, f: impl FnOnce(A, B, C, D) -> R) -> R {
    f(a, b, c, d)
}

/// The batch interval of a context (the slide of its sources).
pub fn batch_interval(ctx: &StreamingContext) -> std::time::Duration {
    ctx.driver.config.interval()
}

/// A window's spec checked against its parent's slide; an invalid one is recorded for
/// `start()` to report and replaced by the parent's slide so set-up can go on.
pub fn window_spec(
    ctx: &StreamingContext,
    op: &str,
    len: std::time::Duration,
    slide: std::time::Duration,
    parent: std::time::Duration,
) -> crate::ops::window::WindowSpec {
    crate::ops::window::WindowSpec::new(op, len, slide, parent).unwrap_or_else(|e| {
        pipeline_error(ctx, e);
        let p = (parent.as_millis() as u64).max(1);
        crate::ops::window::WindowSpec {
            len_ms: p,
            slide_ms: p,
        }
    })
}

/// The slide of an operator over two streams, which must produce at the same times.
pub fn same_slide(
    ctx: &StreamingContext,
    op: &str,
    a: std::time::Duration,
    b: std::time::Duration,
) -> std::time::Duration {
    if a != b {
        pipeline_error(
            ctx,
            format!("{op}: the two streams must have the same slide, not {a:?} and {b:?}"),
        );
    }
    a
}
