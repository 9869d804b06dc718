//! Executing a pool: ground-truth labels for every distinct program and
//! the verdict matrix of every candidate against every test, both through
//! the run store, so a rerun or a resumed run pays for nothing twice.

use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::reporter::{Reporter, Stage};
use codejury_bench::{label, Dataset, LabelRequest};
use codejury_core::metrics::Task;
use codejury_core::PassMatrix;
use codejury_sandbox::{sinks, Job, Limits, PairOutcome, Runner, VerdictSink};
use codejury_store::{CacheError, CachedRunner};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// A pool executed and labelled: one [`Task`] per problem with candidates.
#[derive(Debug, Clone)]
pub struct Executed {
    /// Matrices and labels, in benchmark order.
    pub tasks: Vec<Task>,
    /// Task ids, aligned with `tasks`.
    pub ids: Vec<String>,
    /// The problems' prompts, aligned with `tasks` (the difficulty probe
    /// reads them).
    pub prompts: Vec<String>,
    /// What was executed (tasks without candidates left out).
    pub pool: Pool,
    /// Pairs in the matrices (distinct programs × distinct tests).
    pub pairs: usize,
    /// Executions run now (ground-truth checks included).
    pub executed: u64,
    /// Executions answered from the store.
    pub cached: u64,
    /// Seconds labelling.
    pub label_secs: f64,
    /// Seconds executing the matrix.
    pub exec_secs: f64,
    /// Per task (aligned with `tasks`), per distinct program, per distinct
    /// test: the pair's wall milliseconds when it ran (kept in the store,
    /// so a cached pair reports its first run): what the sandbox spends
    /// on a test, for latency curves.
    pub pair_ms: Vec<Vec<Vec<f64>>>,
}

impl Executed {
    /// Where each task id's matrix is in `tasks`: a task without
    /// candidates has none, so positions in the benchmark do not carry over.
    pub fn index_by_id(&self) -> HashMap<&str, usize> {
        self.ids
            .iter()
            .enumerate()
            .map(|(k, id)| (id.as_str(), k))
            .collect()
    }
}

/// A runner in front of another that counts outcomes by origin and stops
/// the run when the caller cancels.
pub struct Tally<'a, R> {
    inner: &'a R,
    executed: AtomicU64,
    cached: AtomicU64,
    cancel: &'a CancellationToken,
}

impl<'a, R: Runner> Tally<'a, R> {
    /// Counts what `inner` runs; stops it when `cancel` fires.
    pub fn new(inner: &'a R, cancel: &'a CancellationToken) -> Self {
        Tally {
            inner,
            executed: AtomicU64::new(0),
            cached: AtomicU64::new(0),
            cancel,
        }
    }

    /// Pairs run so far.
    pub fn executed(&self) -> u64 {
        self.executed.load(Ordering::Relaxed)
    }

    /// Pairs answered from the store so far.
    pub fn cached(&self) -> u64 {
        self.cached.load(Ordering::Relaxed)
    }
}

struct TallySink<'a, 'b, S, R> {
    inner: &'b mut S,
    tally: &'b Tally<'a, R>,
}

impl<S: VerdictSink, R> VerdictSink for TallySink<'_, '_, S, R> {
    type Error = S::Error;

    fn verdict(&mut self, o: PairOutcome) -> std::result::Result<bool, S::Error> {
        let counter = if o.cached {
            &self.tally.cached
        } else {
            &self.tally.executed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let go_on = self.inner.verdict(o)?;
        Ok(go_on && !self.tally.cancel.is_cancelled())
    }

    fn finish(&mut self) -> std::result::Result<(), S::Error> {
        self.inner.finish()
    }
}

impl<R: Runner> Runner for Tally<'_, R> {
    type Error = R::Error;

    fn run_jobs<S>(&self, jobs: Vec<Job>, sink: &mut S) -> std::result::Result<(), S::Error>
    where
        S: VerdictSink,
        S::Error: From<R::Error>,
    {
        if self.cancel.is_cancelled() {
            return Ok(());
        }
        self.inner.run_jobs(
            jobs,
            &mut TallySink {
                inner: sink,
                tally: self,
            },
        )
    }
}

/// Labels every distinct program of `pool` with the benchmark's ground
/// truth and runs the verdict matrix, both through `runner` (the store).
/// Tasks without candidates are left out.
pub fn execute(
    runner: &CachedRunner<'_>,
    data: &Dataset,
    mut pool: Pool,
    limits: Limits,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<Executed> {
    pool.tasks.retain(|t| !t.programs.is_empty());

    // Ground truth for every distinct program.
    let t_label = Instant::now();
    let mut requests = Vec::new();
    for tp in &pool.tasks {
        for p in &tp.programs {
            requests.push(LabelRequest {
                task: tp.position,
                program: p.clone(),
            });
        }
    }
    reporter.start(&Stage::Labels, requests.len() as u64, 0);
    let tally = Tally::new(runner, cancel);
    let labels = label(&tally, data, &requests, |_| {
        reporter.advance(&Stage::Labels, 1)
    })
    .map_err(Error::from)?;
    reporter.finish(&Stage::Labels);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let label_secs = t_label.elapsed().as_secs_f64();

    // The verdict matrix over distinct programs and tests.
    let t_exec = Instant::now();
    let mut jobs = Vec::new();
    let mut job_of = Vec::new();
    for (k, tp) in pool.tasks.iter().enumerate() {
        for (p, job) in tp.jobs(limits).into_iter().enumerate() {
            job_of.push((k, p));
            jobs.push(job);
        }
    }
    let pairs: usize = jobs.iter().map(|j| j.tests.len()).sum();
    let mut verdicts: HashMap<(usize, usize), Vec<bool>> = job_of
        .iter()
        .map(|&(k, p)| ((k, p), vec![false; pool.tasks[k].tests.len()]))
        .collect();
    let mut pair_ms: Vec<Vec<Vec<f64>>> = pool
        .tasks
        .iter()
        .map(|tp| vec![vec![0.0; tp.tests.len()]; tp.programs.len()])
        .collect();
    reporter.start(&Stage::Pairs, pairs as u64, 0);
    let mut sink = sinks::from_fn(|o: PairOutcome| {
        let (k, p) = job_of[o.job];
        if let Some(v) = verdicts.get_mut(&(k, p)) {
            v[o.test] = o.verdict.passed();
        }
        if let Some(ms) = pair_ms[k][p].get_mut(o.test) {
            *ms = o.wall_ms;
        }
        reporter.advance(&Stage::Pairs, 1);
        Ok::<_, CacheError>(true)
    });
    tally.run_jobs(jobs, &mut sink)?;
    reporter.finish(&Stage::Pairs);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let exec_secs = t_exec.elapsed().as_secs_f64();

    // Sampled rows and columns, with multiplicities.
    let mut label_at = HashMap::new();
    for (r, l) in requests.iter().zip(&labels) {
        label_at.insert((r.task, r.program.as_str()), l.passed);
    }
    let mut tasks = Vec::new();
    let mut ids = Vec::new();
    let mut prompts = Vec::new();
    for (k, tp) in pool.tasks.iter().enumerate() {
        let pass: Vec<Vec<bool>> = tp
            .rows
            .iter()
            .map(|&p| tp.cols.iter().map(|&c| verdicts[&(k, p)][c]).collect())
            .collect();
        let row_labels = tp
            .rows
            .iter()
            .map(|&p| label_at[&(tp.position, tp.programs[p].as_str())])
            .collect();
        tasks.push(Task {
            matrix: PassMatrix {
                pass,
                row_key: tp.rows.clone(),
                col_key: tp.cols.clone(),
            },
            labels: row_labels,
            generations: tp.generations.clone(),
        });
        ids.push(tp.task_id.clone());
        prompts.push(
            tp.problem
                .as_ref()
                .map(|p| p.prompt.clone())
                .unwrap_or_default(),
        );
    }
    Ok(Executed {
        tasks,
        ids,
        prompts,
        pool,
        pairs,
        executed: tally.executed(),
        cached: tally.cached(),
        label_secs,
        exec_secs,
        pair_ms,
    })
}
