//! `eval`: rerank a pool of pre-generated candidates and tests end to end —
//! ground-truth labels and the verdict matrix through the store, every
//! selection rule, and the report.

use crate::config::{BenchSpec, EvalConfig, LimitSettings, PoolFiles};
use crate::error::Result;
use crate::execute::{execute, Executed};
use crate::pool::files::{read_candidates, read_tests, Tasks, TestLines};
use crate::pool::{Duplicates, Pool, PoolBuilder};
use crate::report::{self, Summary};
use crate::reporter::Reporter;
use crate::session::Sandbox;
use codejury_bench::Dataset;
use codejury_store::{CachedRunner, Store};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Reads a pool's files against a benchmark, with the one validation every
/// command shares.
pub fn read_pool(sandbox: &Sandbox, data: &Dataset, files: &PoolFiles) -> Result<Pool> {
    let mut b = PoolBuilder::new(sandbox.language(), files.codet_test_unit, Duplicates::Drop);
    let mut tasks = Tasks::Dataset(data);
    read_candidates(&files.solutions, &mut tasks, &mut b)?;
    read_tests(&files.tests, &mut tasks, &mut b, TestLines::Any, None)?;
    b.finish()
}

/// Loads the benchmark, reads the pool and executes it through the store.
pub fn execute_files(
    sandbox: &Sandbox,
    store: &Store,
    bench: &BenchSpec,
    files: &PoolFiles,
    limits: &LimitSettings,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<(Dataset, Executed)> {
    let data = bench.load()?;
    let pool = read_pool(sandbox, &data, files)?;
    let runner = CachedRunner::new(sandbox.engine(), store);
    let executed = execute(&runner, &data, pool, limits.limits(), reporter, cancel)?;
    Ok((data, executed))
}

/// Wall seconds per stage of `eval`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EvalSeconds {
    /// Labelling.
    pub labels: f64,
    /// Executing the matrix.
    pub exec: f64,
    /// Building and writing the report.
    pub report: f64,
    /// Everything.
    pub total: f64,
}

/// The `--json` summary of `eval`: the report plus what it cost.
#[derive(Debug, Clone, Serialize)]
pub struct EvalSummary {
    /// The report.
    #[serde(flatten)]
    pub report: Summary,
    /// Pairs in the matrices.
    pub pairs: usize,
    /// Executions run now (ground-truth checks included).
    pub executed: u64,
    /// Executions answered from the store.
    pub cached: u64,
    /// Wall seconds per stage.
    pub seconds: EvalSeconds,
    /// The report's directory.
    pub out: PathBuf,
}

/// Runs `eval`: writes the report into `config.out` and returns its summary.
pub fn eval(
    sandbox: &Sandbox,
    store: &Store,
    config: &EvalConfig,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<EvalSummary> {
    let started = Instant::now();
    let (_, run) = execute_files(
        sandbox,
        store,
        &config.bench,
        &config.pool,
        &config.limits,
        reporter,
        cancel,
    )?;
    let t_report = Instant::now();
    let summary = Summary::build(&run.tasks, &run.pool, config.repeats, config.seed)
        .with_cost(&run, None, None);
    let title = format!("codejury eval · {}", config.bench.bench);
    report::write(&config.out, &title, &summary, &run)?;
    Ok(EvalSummary {
        report: summary,
        pairs: run.pairs,
        executed: run.executed,
        cached: run.cached,
        seconds: EvalSeconds {
            labels: run.label_secs,
            exec: run.exec_secs,
            report: t_report.elapsed().as_secs_f64(),
            total: started.elapsed().as_secs_f64(),
        },
        out: config.out.clone(),
    })
}
