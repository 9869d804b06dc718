//! `codejury eval`: execute a pool through the store, label it, select with
//! every rule, and write the report.

use crate::args::{BenchArgs, EngineArgs, LimitArgs, StoreArgs};
use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::Result;
use codejury_pipeline::config::{EvalConfig, PoolFiles, TestUnit};
use codejury_pipeline::{eval, open_store, Sandbox};
use std::path::PathBuf;
use std::process::ExitCode;

/// The flags that name a pool and how to run it.
#[derive(clap::Args, Debug)]
pub struct PoolArgs {
    #[command(flatten)]
    bench: BenchArgs,
    /// Candidates: JSONL of samples (`solution`/`completion`) or of CodeT
    /// pools (`samples`: raw completions per task).
    #[arg(long)]
    solutions: PathBuf,
    /// Tests: JSONL of tests (`test`), CodeRM generations (`generation`),
    /// or CodeT pools (`samples`: raw `assert` completions per task).
    #[arg(long)]
    tests: PathBuf,
    /// In CodeT pools, whether a test is one `assert` or one sample's asserts together.
    #[arg(long, value_enum, default_value = "assert")]
    codet_test_unit: Unit,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// What one test of a CodeT pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unit {
    /// Each extracted `assert` (CodeT's own unit).
    Assert,
    /// All asserts kept from one sample, passing iff all pass (the unit the
    /// CodeRM evaluation gives a raw test generation).
    Sample,
}

impl PoolArgs {
    /// The pipeline's settings for this pool, reporting into `out`.
    pub fn config(&self, out: PathBuf, repeats: usize, seed: u64) -> EvalConfig {
        EvalConfig {
            bench: self.bench.spec(),
            pool: PoolFiles {
                solutions: self.solutions.clone(),
                tests: self.tests.clone(),
                codet_test_unit: match self.codet_test_unit {
                    Unit::Assert => TestUnit::Assert,
                    Unit::Sample => TestUnit::Sample,
                },
            },
            limits: self.limits.settings(),
            engine: self.engine.settings_for(self.bench.bench.language()),
            store: self.store.store.clone(),
            out,
            repeats,
            seed,
        }
    }
}

/// Flags of `eval`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pool: PoolArgs,
    /// Directory for the report (report.json, report.md, plots, selections).
    #[arg(long)]
    out: PathBuf,
    /// Bootstrap repeats per point of the scaling curves.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let config = args.pool.config(args.out, args.repeats, args.seed);
    let cancel = cancel_on_ctrl_c();
    let sandbox = Sandbox::start(&config.engine)?;
    let store = open_store(config.store.as_deref())?;
    let progress = Progress::new(false);
    let s = match eval::eval(&sandbox, &store, &config, &progress, &cancel) {
        Ok(s) => s,
        Err(e) => return cancelled_or(e, Some(store.path())),
    };
    out.summary(&s, || {
        print!("{}", s.report.table());
        println!(
            "{} pairs; {} executions (with ground-truth checks) run, {} from the store; labels {:.1}s, exec {:.1}s, total {:.1}s; report in {}",
            s.pairs,
            s.executed,
            s.cached,
            s.seconds.labels,
            s.seconds.exec,
            s.seconds.total,
            s.out.display()
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
