//! What a generated job calls to move a batch's data between the processes of a cluster:
//! a shuffle's exchange, a gather for the steps that need the whole batch, and keeping
//! the partitions this process owns. In a local build (and in a local context of a
//! cluster build) every call is the identity or the local transpose.
//!
//! Partition `p` is owned by process `p mod processes` (timely's worker `p mod W` with
//! one timely worker per process; a process's partitions run on its own executor). Every
//! process runs the same jobs on the same batches, so they make the same collective calls
//! in the same order; the `n`th call of a job in a batch is one round of the
//! [`Exchanger`](crate::cluster::Exchanger) at a timestamp made of the batch time, the job
//! and `n`.

use crate::exec::Batch;
use crate::wire::{Arena, Wire};

impl Batch<'_> {
    /// A shuffle's exchange: `written[source][destination]` buckets become
    /// `[destination][source]`. In a cluster, a destination partition this process does
    /// not own is sent to its owner, and the buckets of the partitions it owns arrive
    /// from every process, in source partition order (as in a local run).
    pub fn exchange<'a, B: Wire<'a>>(
        &self,
        written: Vec<Vec<B>>,
        n: usize,
        arena: &'a Arena,
    ) -> crate::Result<Vec<Vec<B>>> {
        let out = crate::ops::shuffle::exchange(written, n);
        #[cfg(feature = "cluster")]
        if let Some(c) = self.cluster() {
            return c.exchange(out, arena);
        }
        let _ = arena;
        Ok(out)
    }

    /// Every partition's entry (its records, or its partial result), on every process:
    /// what a step that needs the whole batch reads (`count`, `reduce`, `transform`,
    /// the outputs). Each process sends the entries of the partitions it owns.
    pub fn gather<'a, P: Wire<'a> + Default>(
        &self,
        parts: Vec<P>,
        arena: &'a Arena,
    ) -> crate::Result<Vec<P>> {
        self.gather_to(parts, arena, true)
    }

    /// What an output writes: every partition's records on the processes that write
    /// outputs ([`writes_outputs`](Self::writes_outputs)); the others send theirs and
    /// keep what they had.
    pub fn gather_for_outputs<'a, P: Wire<'a> + Default>(
        &self,
        parts: Vec<P>,
        arena: &'a Arena,
    ) -> crate::Result<Vec<P>> {
        self.gather_to(parts, arena, false)
    }

    /// A gather to every process (`to_all`) or to those that write outputs.
    fn gather_to<'a, P: Wire<'a> + Default>(
        &self,
        parts: Vec<P>,
        arena: &'a Arena,
        to_all: bool,
    ) -> crate::Result<Vec<P>> {
        #[cfg(feature = "cluster")]
        if let Some(c) = self.cluster() {
            return c.gather(parts, arena, to_all);
        }
        let _ = (arena, to_all);
        Ok(parts)
    }

    /// The largest of `value` over the processes of a cluster (each passes what it saw
    /// in its own partitions); `value` itself in a local run. An event-time watermark is
    /// the largest event time of the whole batch, not of one process's share.
    pub fn max_over_processes(&self, value: u64) -> crate::Result<u64> {
        #[cfg(feature = "cluster")]
        if let Some(c) = self.cluster() {
            return c.max(value);
        }
        Ok(value)
    }

    /// `parts` with the partitions other processes own emptied: after a step every
    /// process computed on the whole batch, each keeps its share, so no record is
    /// counted twice downstream.
    pub fn keep_owned<P: Default>(&self, parts: Vec<P>) -> Vec<P> {
        #[cfg(feature = "cluster")]
        if let Some(c) = self.cluster() {
            return c.keep_owned(parts);
        }
        parts
    }

    /// Whether this process writes the batch's outputs: always in a local context; in a
    /// cluster, process 0 (the driver), or every process when each runs a replica of a
    /// test.
    pub fn writes_outputs(&self) -> bool {
        #[cfg(feature = "cluster")]
        if let Some(c) = self.cluster() {
            return c.writes_outputs();
        }
        true
    }
}
