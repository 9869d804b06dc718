//! `codejury eval`: execute a pool through the store, label it, select with
//! every rule, and write the report.

use crate::args::{parse_bench, EngineArgs, LimitArgs, StoreArgs};
use crate::output::{cancelled_or, Output};
use crate::progress::Progress;
use crate::signals::cancel_on_ctrl_c;
use anyhow::{anyhow, bail, Context, Result};
use codejury_bench::Benchmark;
use codejury_pipeline::config::{BenchSpec, EvalConfig, PoolFiles, TestUnit};
use codejury_pipeline::{eval, open_store, Sandbox};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The flags that name a pool and how to run it.
#[derive(clap::Args, Debug, Clone)]
pub struct PoolArgs {
    /// A `run`'s output directory: its benchmark (from `run.json`), its
    /// `solutions.jsonl` and `tests.jsonl`, with the usage and latency each
    /// call recorded, and its models' sizes. Instead of `--solutions` and
    /// `--tests`.
    #[arg(value_name = "RUN_DIR", conflicts_with_all = ["solutions", "tests"])]
    run: Option<PathBuf>,
    /// humaneval, humaneval-plus, mbpp-plus, mbxp-<lang> or humaneval-<lang>
    /// [default with RUN_DIR: the run's].
    #[arg(long, value_parser = parse_bench, required_unless_present = "run")]
    bench: Option<Benchmark>,
    /// A local copy of the benchmark file [default: $CODEJURY_DATA_DIR, else
    /// the cache, else fetched from its public source].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Candidates: JSONL of samples (`solution`/`completion`/`response`) or
    /// of CodeT pools (`samples`: raw completions per task).
    #[arg(long, required_unless_present = "run")]
    solutions: Option<PathBuf>,
    /// Tests: JSONL of tests (`test`), model answers (`generation`, with
    /// `style`), or CodeT pools (`samples`: raw `assert` completions per task).
    #[arg(long, required_unless_present = "run")]
    tests: Option<PathBuf>,
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

/// What a run directory's `run.json` says about the pool it wrote.
#[derive(Debug, Default)]
pub struct RunRecord {
    /// The policy's parameters, when the run knew them.
    pub policy_params: Option<u64>,
    /// The tester's parameters.
    pub tester_params: Option<u64>,
}

/// Reads `dir/run.json`: the benchmark (absent from an older codejury's),
/// its local file, and the models' sizes.
fn read_run(dir: &Path) -> Result<(Option<Benchmark>, Option<PathBuf>, RunRecord)> {
    let path = dir.join("run.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read (is {} a `run` output directory?)",
            path.display(),
            dir.display()
        )
    })?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let bench = json
        .get("bench")
        .and_then(Value::as_str)
        .map(|b| {
            b.parse::<Benchmark>()
                .map_err(|e| anyhow!("{}: field `bench`: {e}", path.display()))
        })
        .transpose()?;
    let data = json.get("data").and_then(Value::as_str).map(PathBuf::from);
    let params = |stage: &str| {
        json.pointer(&format!("/stages/{stage}/parameters"))
            .and_then(Value::as_u64)
    };
    Ok((
        bench,
        data,
        RunRecord {
            policy_params: params("solutions"),
            tester_params: params("tests"),
        },
    ))
}

impl PoolArgs {
    /// The run directory these flags name, if any.
    pub fn run_dir(&self) -> Option<&Path> {
        self.run.as_deref()
    }

    /// The same flags on another run directory.
    pub fn on_run(mut self, dir: PathBuf) -> PoolArgs {
        self.run = Some(dir);
        self
    }

    /// The pipeline's settings for this pool, reporting into `out`, and
    /// what its run recorded (nothing for pool files).
    pub fn config(
        &self,
        out: PathBuf,
        repeats: usize,
        seed: u64,
    ) -> Result<(EvalConfig, RunRecord)> {
        let (bench, data, record, files) = match &self.run {
            Some(dir) => {
                let (recorded, data, record) = read_run(dir)?;
                let bench = match (self.bench, recorded) {
                    (Some(asked), Some(ran)) if asked != ran => {
                        bail!("--bench {asked}: {} is a run of {ran}", dir.display())
                    }
                    (_, Some(ran)) => ran,
                    (Some(asked), None) => asked,
                    (None, None) => bail!(
                        "{}: field `bench` is missing (written by an older codejury): pass --bench",
                        dir.join("run.json").display()
                    ),
                };
                let files = (dir.join("solutions.jsonl"), dir.join("tests.jsonl"));
                for f in [&files.0, &files.1] {
                    if !f.exists() {
                        bail!("{}: missing (a run made before `run` wrote its pool files has none: run it again, it costs nothing from the store)", f.display());
                    }
                }
                (bench, self.data.clone().or(data), record, files)
            }
            None => {
                let (Some(bench), Some(s), Some(t)) = (self.bench, &self.solutions, &self.tests)
                else {
                    bail!("give a run directory, or --bench, --solutions and --tests");
                };
                (
                    bench,
                    self.data.clone(),
                    RunRecord::default(),
                    (s.clone(), t.clone()),
                )
            }
        };
        let config = EvalConfig {
            bench: BenchSpec { bench, data },
            pool: PoolFiles {
                solutions: files.0,
                tests: files.1,
                codet_test_unit: match self.codet_test_unit {
                    Unit::Assert => TestUnit::Assert,
                    Unit::Sample => TestUnit::Sample,
                },
            },
            limits: self.limits.settings(),
            engine: self.engine.settings_for(bench.language()),
            store: self.store.store.clone(),
            out,
            repeats,
            seed,
        };
        Ok((config, record))
    }
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
    let (config, _) = args.pool.config(args.out, args.repeats, args.seed)?;
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
