//! What generated code calls: source registration, job registration and the call shims
//! that give each user closure its argument type. Not a stable API.

use crate::sinks::{Sink, SinkOutput};
use crate::sources::{
    FileSource, ListenSource, QueueSource, Receiver, ReceiverSource, Replayable, ReplayableSource,
    Slot, SocketSource, SourceControl, SourceHandle,
};
use crate::{Batch, Result, StreamingContext, Time};
use std::sync::Arc;

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
        driver.sources.add(src);
    }
    SourceHandle::new(slot)
}

/// `queue_stream(batches)`: a `Vec` of batches or a [`Queue`](crate::sources::Queue).
pub fn queue_stream<T: Send + 'static>(
    ctx: &StreamingContext,
    batches: impl crate::sources::IntoQueue<T>,
) -> SourceHandle<T> {
    let (src, slot) = QueueSource::new(batches, ctx.driver.config.parallelism());
    add_source(ctx, src, slot)
}

/// `socket_text_stream(host, port)`.
pub fn socket_text_stream(
    ctx: &StreamingContext,
    host: impl AsRef<str>,
    port: u16,
) -> SourceHandle<String> {
    let (src, slot) = SocketSource::new(
        host.as_ref(),
        port,
        ctx.driver.sources.stats(),
        ctx.driver.config.parallelism(),
        ctx.driver.config.receiver_limits(),
    );
    add_source(ctx, src, slot)
}

/// `socket_listen_stream(addr)`.
pub fn socket_listen_stream(ctx: &StreamingContext, addr: impl AsRef<str>) -> SourceHandle<String> {
    let (src, slot) = ListenSource::new(
        addr.as_ref(),
        ctx.driver.sources.stats(),
        ctx.driver.config.parallelism(),
        ctx.driver.config.receiver_limits(),
    );
    add_source(ctx, src, slot)
}

/// `text_file_stream(dir)`.
pub fn text_file_stream(
    ctx: &StreamingContext,
    dir: impl AsRef<std::path::Path>,
) -> SourceHandle<String> {
    let (src, slot) = FileSource::new(
        dir.as_ref(),
        ctx.driver.config.file_remember(),
        ctx.driver.sources.stats(),
        ctx.driver.config.parallelism(),
    );
    add_source(ctx, src, slot)
}

/// `receiver_stream(receiver)`: the lines a user [`Receiver`] stores.
pub fn receiver_stream<R: Receiver>(ctx: &StreamingContext, receiver: R) -> SourceHandle<String> {
    let (src, slot) = ReceiverSource::new(
        receiver,
        ctx.driver.sources.stats(),
        ctx.driver.config.parallelism(),
        ctx.driver.config.receiver_limits(),
    );
    add_source(ctx, src, slot)
}

/// `replayable_stream(source)`: the records a user [`ReplayableSource`] cuts.
pub fn replayable_stream<T, S>(ctx: &StreamingContext, source: S) -> SourceHandle<T>
where
    T: Send + 'static,
    S: ReplayableSource<T>,
{
    let (src, slot) = Replayable::new(source, ctx.driver.config.parallelism());
    add_source(ctx, src, slot)
}

/// Registers a user [`Sink`] of `.write_to(sink)` with the context (set-up code): the
/// context commits it after every batch whose outputs all succeeded.
pub fn sink_output<T, S>(ctx: &StreamingContext, sink: S) -> SinkOutput<T, S>
where
    T: 'static,
    S: Sink<T>,
{
    let (out, commit) = SinkOutput::new(sink);
    ctx.driver.jobs.add_sink(commit);
    out
}

/// `.write_to(sink)` in a job: writes the records of the batch at `time` to the sink
/// registered by [`sink_output`].
pub fn write_to<T, S>(time: Time, records: Vec<T>, sink: &SinkOutput<T, S>) -> Result<()>
where
    T: 'static,
    S: Sink<T>,
{
    sink.write(time, records)
}

/// Registers a generated job with its plan text and the canonical form of its operator
/// graph (which the checkpoint's plan fingerprint is computed from).
pub fn register_job<F>(ctx: &StreamingContext, explain: &str, canonical: &str, job: F)
where
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
    driver.jobs.add(explain, canonical, Box::new(job));
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
