//! `codejury eval`: execute a pool through the store, label it, select with
//! every rule, and write the report.

use crate::common::{progress, BenchArgs, EngineArgs, LimitArgs, Output, StoreArgs};
use crate::pool::{read_candidates, read_tests, Pool, TestUnit};
use crate::report::{self, Report};
use anyhow::Result;
use codejury_bench::Dataset;
use codejury_bench::{label, LabelRequest};
use codejury_core::metrics::Task;
use codejury_core::PassMatrix;
use codejury_sandbox::{Engine, Job, Limits, Runner};
use codejury_store::{CachedRunner, Store};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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

/// A pool executed and labelled: one [`Task`] per problem.
pub struct PoolRun {
    /// Matrices and labels.
    pub tasks: Vec<Task>,
    /// Task ids, aligned with `tasks`.
    pub ids: Vec<String>,
    /// The problems' prompts, aligned with `tasks` (the difficulty probe reads them).
    pub prompts: Vec<String>,
    /// What was read.
    pub pool: Pool,
    /// Pairs in the matrices (distinct programs × distinct tests).
    pub pairs: usize,
    /// Executions run now and answered from the store.
    pub executed: u64,
    /// Executions answered from the store.
    pub cached: u64,
    /// Seconds labelling and executing.
    pub label_secs: f64,
    /// Seconds executing the matrix.
    pub exec_secs: f64,
}

impl PoolRun {
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
    codet_test_unit: TestUnit,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Reads, labels and executes a pool (through the store).
pub fn run_pool(args: &PoolArgs) -> Result<PoolRun> {
    let data = args.bench.load()?;
    let engine = args.engine.engine()?;
    let mut pool = Pool::default();
    read_candidates(&args.solutions, &data, &mut pool)?;
    read_tests(
        &args.tests,
        &data,
        engine.python(),
        args.codet_test_unit,
        &mut pool,
    )?;
    let store = args.store.open()?;
    execute_pool(&data, pool, &engine, &store, args.limits.limits())
}

/// Labels every distinct program of a pool with ground truth and runs the
/// verdict matrix, both through the store.
pub fn execute_pool(
    data: &Dataset,
    mut pool: Pool,
    engine: &Engine,
    store: &Store,
    limits: Limits,
) -> Result<PoolRun> {
    pool.tasks.retain(|_, t| !t.programs.is_empty());
    let runner = CachedRunner::new(engine, store);

    // Ground truth for every distinct program.
    let t_label = Instant::now();
    let mut requests = Vec::new();
    for (&task, tp) in &pool.tasks {
        for p in &tp.programs {
            requests.push(LabelRequest {
                task,
                program: p.clone(),
            });
        }
    }
    let bar = progress(requests.len() as u64, "labels");
    let labels = label(&runner, data, &requests, |_| bar.inc(1))?;
    bar.finish_and_clear();
    let label_secs = t_label.elapsed().as_secs_f64();

    // The verdict matrix over distinct programs and tests.
    let t_exec = Instant::now();
    let mut jobs = Vec::new();
    let mut job_of = Vec::new();
    for (&task, tp) in &pool.tasks {
        for (p, program) in tp.programs.iter().enumerate() {
            job_of.push((task, p));
            jobs.push(Job {
                candidate: program.clone(),
                entry_point: Some(data.problems[task].problem.entry_point.clone()),
                prelude: None,
                tests: tp.tests.clone(),
                limits,
            });
        }
    }
    let pairs: usize = jobs.iter().map(|j| j.tests.len()).sum();
    let mut verdicts: HashMap<(usize, usize), Vec<bool>> = job_of
        .iter()
        .map(|&(t, p)| ((t, p), vec![false; pool.tasks[&t].tests.len()]))
        .collect();
    let bar = progress(pairs as u64, "pairs");
    runner.run_jobs(jobs, &mut |o| {
        if let Some(v) = verdicts.get_mut(&job_of[o.job]) {
            v[o.test] = o.verdict.passed();
        }
        bar.inc(1);
        true
    })?;
    bar.finish_and_clear();
    if let Some(e) = runner.take_error() {
        return Err(e.into());
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
    for (&task, tp) in &pool.tasks {
        let pass: Vec<Vec<bool>> = tp
            .rows
            .iter()
            .map(|&p| tp.cols.iter().map(|&c| verdicts[&(task, p)][c]).collect())
            .collect();
        let row_labels = tp
            .rows
            .iter()
            .map(|&p| label_at[&(task, tp.programs[p].as_str())])
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
        ids.push(data.problems[task].problem.task_id.clone());
        prompts.push(data.problems[task].problem.prompt.clone());
    }
    Ok(PoolRun {
        tasks,
        ids,
        prompts,
        pool,
        pairs,
        executed: runner.executed(),
        cached: runner.cached(),
        label_secs,
        exec_secs,
    })
}

/// Runs the command.
pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let started = Instant::now();
    let PoolRun {
        tasks,
        ids: task_ids,
        prompts: _,
        pool,
        pairs,
        executed,
        cached,
        label_secs,
        exec_secs,
    } = run_pool(&args.pool)?;
    let t_report = Instant::now();
    let rep = Report::build(&tasks, &task_ids, &pool, args.repeats, args.seed);
    report::write(&args.out, &rep, &tasks, &task_ids)?;
    let mut summary = rep.summary_json();
    summary["pairs"] = serde_json::json!(pairs);
    summary["executed"] = serde_json::json!(executed);
    summary["cached"] = serde_json::json!(cached);
    summary["seconds"] = serde_json::json!({
        "labels": label_secs,
        "exec": exec_secs,
        "report": t_report.elapsed().as_secs_f64(),
        "total": started.elapsed().as_secs_f64(),
    });
    summary["out"] = serde_json::json!(args.out);
    out.summary(&summary, || {
        print!("{}", rep.table());
        println!(
            "{pairs} pairs; {} executions (with ground-truth checks) run, {} from the store; labels {label_secs:.1}s, exec {exec_secs:.1}s, total {:.1}s; report in {}",
            executed,
            cached,
            started.elapsed().as_secs_f64(),
            args.out.display()
        );
    });
    Ok(ExitCode::SUCCESS)
}
