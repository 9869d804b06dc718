//! `exec`: the verdict of every solution against every test of its task,
//! from files, pushed row by row to the caller.

use crate::config::ExecConfig;
use crate::error::{self, Error, Result};
use crate::pool::files::{read_candidates, read_tests, Tasks, TestLines};
use crate::pool::{Duplicates, PoolBuilder};
use crate::reporter::{Reporter, Stage};
use crate::session::Sandbox;
use codejury_bench::Dataset;
use codejury_core::Verdict;
use codejury_sandbox::{PairOutcome, Runner, VerdictSink};
use codejury_store::{CachedRunner, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// One verdict: a line of `exec`'s output.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictRow {
    /// The task.
    pub task_id: String,
    /// The solution's position among its task's lines in the solutions file.
    pub solution_index: usize,
    /// The test's position among its task's lines in the tests file.
    pub test_index: usize,
    /// What happened.
    pub verdict: Verdict,
    /// CPU milliseconds.
    pub cpu_ms: f64,
    /// Wall milliseconds.
    pub wall_ms: f64,
    /// Why it did not pass.
    pub message: String,
    /// Whether it came from the store.
    pub cached: bool,
}

/// What `exec` did.
#[derive(Debug, Clone, Serialize)]
pub struct ExecSummary {
    /// Solutions read.
    pub solutions: usize,
    /// Tests read.
    pub tests: usize,
    /// Verdict rows written.
    pub pairs: usize,
    /// Pairs run now.
    pub executed: u64,
    /// Pairs answered from the store.
    pub cached: u64,
    /// The store.
    pub store: PathBuf,
    /// Rows per verdict.
    pub verdicts: BTreeMap<Verdict, usize>,
    /// Wall seconds.
    pub seconds: f64,
    /// Rows per second.
    pub pairs_per_second: f64,
}

/// Runs `exec`: every verdict row goes to `each` as soon as its pair is
/// judged (a pair's row and its duplicates' together); an error from `each`
/// stops the run and is returned.
pub fn exec(
    sandbox: &Sandbox,
    store: &Store,
    config: &ExecConfig,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
    mut each: impl FnMut(&VerdictRow) -> Result<()>,
) -> Result<ExecSummary> {
    let language = sandbox.language();
    let forced = match &config.test_format {
        Some(name) => Some(language.parse_format(name).ok_or_else(|| {
            error::config(format!(
                "--test-format {name:?} is not a {} test format",
                language.name()
            ))
        })?),
        None => None,
    };
    let data: Option<Dataset> = match (&config.problems, &config.bench) {
        (Some(p), _) => Some(Dataset::load_plain(p)?),
        (None, Some(b)) => Some(b.load()?),
        (None, None) => None,
    };
    let mut tasks = match &data {
        Some(d) => Tasks::Dataset(d),
        None => Tasks::Free(HashMap::new()),
    };
    let mut b = PoolBuilder::new(language, Default::default(), Duplicates::Keep);
    read_tests(
        &config.tests,
        &mut tasks,
        &mut b,
        TestLines::Plain,
        forced.as_ref(),
    )?;
    read_candidates(&config.solutions, &mut tasks, &mut b)?;
    let pool = b.finish()?;
    let limits = config.limits.limits();
    let solutions: usize = pool.tasks.iter().map(|t| t.rows.len()).sum();
    let tests: usize = pool.tasks.iter().map(|t| t.cols.len()).sum();

    // A job per distinct program; each (program, distinct test) verdict is
    // written for every row holding the program and every column holding
    // the test.
    let mut jobs = Vec::new();
    let mut meta = Vec::new();
    for tp in &pool.tasks {
        let rows_of = tp.rows_of_programs();
        let cols_of = tp.cols_of_tests();
        for (p, job) in tp.jobs(limits).into_iter().enumerate() {
            jobs.push(job);
            meta.push((tp.task_id.clone(), rows_of[p].clone(), cols_of.clone()));
        }
    }
    let pairs: usize = pool.tasks.iter().map(|t| t.rows.len() * t.cols.len()).sum();
    let runner = CachedRunner::new(sandbox.engine(), store);
    let started = Instant::now();
    reporter.start(&Stage::Pairs, pairs as u64, 0);
    let mut sink = Rows {
        meta: &meta,
        each: &mut each,
        counts: BTreeMap::new(),
        executed: 0,
        cached: 0,
        written: 0,
        reporter,
        cancel,
    };
    runner.run_jobs(jobs, &mut sink)?;
    reporter.finish(&Stage::Pairs);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(ExecSummary {
        solutions,
        tests,
        pairs: sink.written,
        executed: sink.executed,
        cached: sink.cached,
        store: store.path().to_path_buf(),
        verdicts: sink.counts,
        seconds: secs,
        pairs_per_second: sink.written as f64 / secs.max(1e-9),
    })
}

type Meta = (String, Vec<usize>, Vec<Vec<usize>>);

struct Rows<'a, F> {
    meta: &'a [Meta],
    each: &'a mut F,
    counts: BTreeMap<Verdict, usize>,
    executed: u64,
    cached: u64,
    written: usize,
    reporter: &'a dyn Reporter,
    cancel: &'a CancellationToken,
}

impl<F: FnMut(&VerdictRow) -> Result<()>> VerdictSink for Rows<'_, F> {
    type Error = Error;

    fn verdict(&mut self, o: PairOutcome) -> Result<bool> {
        if o.cached {
            self.cached += 1;
        } else {
            self.executed += 1;
        }
        let (task_id, rows, cols_of) = &self.meta[o.job];
        for &row in rows {
            for &col in &cols_of[o.test] {
                let r = VerdictRow {
                    task_id: task_id.clone(),
                    solution_index: row,
                    test_index: col,
                    verdict: o.verdict,
                    cpu_ms: (o.cpu_ms * 1000.0).round() / 1000.0,
                    wall_ms: (o.wall_ms * 1000.0).round() / 1000.0,
                    message: o.message.clone(),
                    cached: o.cached,
                };
                *self.counts.entry(o.verdict).or_default() += 1;
                self.written += 1;
                (self.each)(&r)?;
                self.reporter.advance(&Stage::Pairs, 1);
            }
        }
        Ok(!self.cancel.is_cancelled())
    }
}
