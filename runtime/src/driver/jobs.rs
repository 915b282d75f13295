//! [`Jobs`]: the pipelines defined on a context (one generated job each, with its plan
//! text, canonical form and graph), the errors found while defining them, and running
//! every job on one batch.

use crate::error::panic_message;
use crate::exec::BatchCheckpoint;
use crate::sinks::sink::Commit;
use crate::sync::lock;
use crate::{Batch, Error, Result};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A generated job: runs one batch of one `stream!` pipeline.
pub(crate) type JobFn = Box<dyn FnMut(&Batch<'_>) -> Result<()> + Send>;

struct Job {
    /// The canonical form of the pipeline's operator graph, for the plan fingerprint.
    canonical: String,
    run: JobFn,
}

/// What a pipeline's plan looks like, kept apart from the jobs (which are locked while
/// a batch runs), so it can be read at any time.
#[derive(Clone, Debug)]
pub(crate) struct PlanView {
    /// The plan as text ("pipeline N ...").
    pub(crate) explain: String,
    /// The plan as a JSON graph (see the macro's `plan/graph.rs`).
    pub(crate) graph: String,
}

impl Job {
    /// The first operator of the pipeline whose output depends on batch times (a window,
    /// or a refit every slide): its canonical line names a slide.
    fn windowed_op(&self) -> Option<&str> {
        self.canonical
            .lines()
            .find(|l| l.contains(" slide="))
            .and_then(|l| l.split_whitespace().nth(1))
    }
}

/// How running the jobs on a batch failed.
pub(crate) enum JobFailure {
    /// A job returned an error.
    Error(Error),
    /// A job panicked, with this message.
    Panicked(String),
}

/// The pipelines of a context.
#[derive(Default)]
pub(crate) struct Jobs {
    jobs: Mutex<Vec<Job>>,
    /// The plans of the jobs, in the same order.
    plans: Mutex<Vec<PlanView>>,
    /// Errors found while the pipelines were defined; `start()` reports them.
    errors: Mutex<Vec<String>>,
    /// The user sinks the pipelines write to, committed after every batch's outputs.
    sinks: Mutex<Vec<Arc<dyn Commit>>>,
}

impl Jobs {
    /// Adds a generated job; its plan text's first "pipeline" becomes "pipeline N".
    pub(crate) fn add(&self, explain: &str, canonical: &str, graph: &str, run: JobFn) {
        let mut jobs = lock(&self.jobs);
        let n = jobs.len() + 1;
        jobs.push(Job {
            canonical: canonical.to_string(),
            run,
        });
        lock(&self.plans).push(PlanView {
            explain: explain.replacen("pipeline", &format!("pipeline {n}"), 1),
            graph: graph.to_string(),
        });
    }

    /// The number of jobs.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn count(&self) -> usize {
        lock(&self.jobs).len()
    }

    /// The plans of the pipelines, in definition order.
    pub(crate) fn plans(&self) -> Vec<PlanView> {
        lock(&self.plans).clone()
    }

    /// Adds a user sink, committed after every batch whose outputs all succeeded.
    pub(crate) fn add_sink(&self, sink: Arc<dyn Commit>) {
        lock(&self.sinks).push(sink);
    }

    /// Commits the batch at `time` to every sink that wrote it, in definition order;
    /// stops at the first that fails.
    pub(crate) fn commit(&self, time: crate::Time) -> Result<()> {
        let sinks = lock(&self.sinks).clone();
        sinks.iter().try_for_each(|s| s.commit(time))
    }

    /// Records an error found while defining a pipeline.
    pub(crate) fn error(&self, message: String) {
        lock(&self.errors).push(message);
    }

    /// Before the first batch: the pipelines' definition errors, and pipelines that
    /// depend on batch times when missed times are to be caught up in one batch.
    pub(crate) fn check(&self, catch_up_in_one_batch: bool) -> Result<()> {
        let errors = lock(&self.errors).clone();
        if !errors.is_empty() {
            return Err(Error::Pipeline(errors.join("; ")));
        }
        if catch_up_in_one_batch {
            if let Some(op) = lock(&self.jobs).iter().find_map(|j| j.windowed_op()) {
                return Err(Error::Config(format!(
                    "catch_up_in_one_batch needs pipelines without windows: `{op}` depends on batch times"
                )));
            }
        }
        Ok(())
    }

    /// The plans of the pipelines, in definition order.
    pub(crate) fn explain(&self) -> String {
        lock(&self.plans)
            .iter()
            .map(|j| j.explain.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The canonical forms of the pipelines, in definition order, each ending with a
    /// newline: what the plan fingerprint is computed from.
    pub(crate) fn plan_forms(&self) -> String {
        lock(&self.jobs)
            .iter()
            .map(|j| j.canonical.as_str())
            .collect()
    }

    /// Runs every job on `batch` in definition order, restoring and saving state
    /// through `checkpoint`, adding how long each ran to `times`; stops at the first job
    /// that fails.
    pub(crate) fn run(
        &self,
        batch: &Batch<'_>,
        checkpoint: Option<&BatchCheckpoint>,
        times: &mut Vec<Duration>,
    ) -> std::result::Result<(), JobFailure> {
        for (i, job) in lock(&self.jobs).iter_mut().enumerate() {
            let batch = batch.for_job(i, checkpoint);
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| (job.run)(&batch)));
            times.push(started.elapsed());
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(JobFailure::Error(e)),
                Err(panic) => return Err(JobFailure::Panicked(panic_message(panic.as_ref()))),
            }
        }
        Ok(())
    }
}
