//! `bench exec`: the engine against its baselines on one fixed, real
//! workload, all measured in the same run, with the floor stated.
//!
//! Workloads ([`Workload`]): CodeRM's setting (the 5-model HumanEval
//! samples × GPT-4 asserts as unittest classes, with real time-outs), or
//! HumanEval+ base inputs as asserts (many tiny tests, no time-outs).
//! Approaches, all on the same pairs:
//! (a) a fresh `python3` process per pair, on an evenly spaced sample;
//! (b) the engine, faithful mode (a fresh process per pair), through a
//!     fresh store as `codejury exec` runs it;
//! (c) the engine, fast mode (a process per candidate), the same way;
//! (d) plain `exec` of every pair in one Python process per worker, no
//!     isolation, a CPU-time limit per pair: its CPU seconds over the
//!     cores are the floor (the work plus the time-outs at their limit);
//! (e) the CodeRM paper's harness method: a warm Python forking one
//!     `multiprocessing.Process` per pair, 10 at a time, wall-clock alarm.

mod baselines;
mod workload;

pub use workload::{coderm_tasks, CodermTask};

use crate::config::EngineSettings;
use crate::error::{Error, Result};
use crate::reporter::{Reporter, Stage};
use codejury_python::PythonToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, Job, Limits, Mode, PairOutcome, RunProfile};
use codejury_store::{CacheError, CachedRunner, Store};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Which programs and tests `bench exec` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// CodeRM's setting: the 820 5-model HumanEval samples × their task's
    /// GPT-4 asserts, each wrapped as a one-method unittest class (4,070
    /// pairs; 15 time out).
    #[default]
    Coderm,
    /// HumanEval+ canonical solutions and the 5-model samples × HumanEval+
    /// base inputs as single asserts: per-pair overhead, no time-outs.
    Evalplus,
}

impl Workload {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Coderm => "coderm",
            Workload::Evalplus => "evalplus",
        }
    }
}

impl std::str::FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Workload, String> {
        match s {
            "coderm" => Ok(Workload::Coderm),
            "evalplus" => Ok(Workload::Evalplus),
            _ => Err(format!(
                "unknown workload {s:?} (expected coderm or evalplus)"
            )),
        }
    }
}

/// Settings of `bench exec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecBenchConfig {
    /// The programs and tests.
    #[serde(default)]
    pub workload: Workload,
    /// HumanEval file, for the coderm workload's prompts (`None`:
    /// `$CODEJURY_DATA_DIR`, the cache, or fetched).
    #[serde(default)]
    pub humaneval: Option<PathBuf>,
    /// HumanEval+ file, for the evalplus workload (`None`: as above).
    #[serde(default)]
    pub humaneval_plus: Option<PathBuf>,
    /// The 5-model samples (`None`: under `$CODEJURY_DATA_DIR`).
    #[serde(default)]
    pub samples: Option<PathBuf>,
    /// The GPT-4 asserts (`None`: under `$CODEJURY_DATA_DIR`).
    #[serde(default)]
    pub tests: Option<PathBuf>,
    /// Only the benchmark's first K tasks (`None`: all): a quick run.
    #[serde(default)]
    pub tasks: Option<usize>,
    /// Pairs run for baseline (a), spread evenly over the workload.
    pub baseline_pairs: usize,
    /// Processes of the paper's method (10 in the paper).
    pub paper_processes: usize,
    /// Time limit per pair, in milliseconds: CPU time for the engine and
    /// the floor, wall-clock for (a) and the paper's method (as they do).
    pub timeout_ms: u64,
    /// The sandbox (its mode is ignored: both modes are measured).
    #[serde(default)]
    pub engine: EngineSettings,
}

/// One approach's measurement.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Approach {
    /// Pairs run.
    pub pairs: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// Pairs per second.
    pub pairs_per_second: f64,
    /// Pairs whose pass/fail equals faithful mode's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_with_faithful: Option<usize>,
}

/// The approaches.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Approaches {
    /// (a) a fresh interpreter per pair, on a sample of the pairs.
    pub process_per_pair: Approach,
    /// (b) the engine, a fresh process per pair.
    pub faithful: Approach,
    /// (c) the engine, a process per candidate.
    pub fast: Approach,
    /// (d) plain `exec`, no isolation.
    pub plain_exec: Approach,
    /// (e) the CodeRM paper's harness method.
    pub paper_method: Approach,
}

/// The result of `bench exec`.
#[derive(Debug, Clone, Serialize)]
pub struct ExecBench {
    /// The workload.
    pub workload: Workload,
    /// What it is, in words.
    pub description: String,
    /// Programs in the workload.
    pub programs: usize,
    /// Pairs in the workload.
    pub pairs: usize,
    /// Parallel workers of the engine, of (a) and of the floor.
    pub workers: usize,
    /// Cores of this machine.
    pub cores: usize,
    /// The interpreter.
    pub python: PathBuf,
    /// Pairs faithful mode passes; pairs it judged timed out.
    pub passes_faithful: usize,
    /// Pairs faithful mode judged timed out.
    pub timeouts_faithful: usize,
    /// Each approach.
    pub approaches: Approaches,
    /// CPU seconds of (d): the work and the time-outs at their limit.
    pub floor_cpu_seconds: f64,
    /// The floor: `floor_cpu_seconds` over the cores.
    pub floor_seconds: f64,
    /// (b) seconds over the floor.
    pub faithful_over_floor: f64,
    /// (c) seconds over the floor.
    pub fast_over_floor: f64,
    /// (b) pairs/s over (a) pairs/s.
    pub faithful_over_process_per_pair: f64,
    /// (b) pairs/s over (e) pairs/s.
    pub faithful_over_paper_method: f64,
    /// Where faithful mode's time went.
    pub faithful_profile: RunProfile,
    /// Where fast mode's time went.
    pub fast_profile: RunProfile,
}

/// One (job, test) pair of the workload.
pub(crate) struct Pair {
    job: usize,
    test: usize,
}

fn baseline_error(message: String) -> Error {
    Error::Baseline {
        what: "bench exec".into(),
        message,
    }
}

/// Runs `bench exec`.
pub fn exec(args: &ExecBenchConfig, reporter: &dyn Reporter) -> Result<ExecBench> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let workers = args.engine.workers.unwrap_or(cores);
    let limits = Limits::default().with_time_ms(args.timeout_ms);
    let toolchain = match &args.engine.python {
        Some(p) => PythonToolchain::named(&p.to_string_lossy())?,
        None => PythonToolchain::resolve()?,
    };
    let python = toolchain.python().to_path_buf();
    let toolchain = Arc::new(toolchain);
    let engine_for = |mode: Mode| -> Result<Engine> {
        Ok(Engine::new(
            EngineConfig {
                workers,
                mode,
                ..EngineConfig::default()
            },
            toolchain.clone(),
        )?)
    };

    let faithful = engine_for(Mode::Faithful)?;
    let built = workload::build(args, limits, &faithful)?;
    let jobs = built.jobs;
    let pairs: Vec<Pair> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.tests.len()).map(move |t| Pair { job: j, test: t }))
        .collect();
    let n = pairs.len();
    if n == 0 {
        return Err(baseline_error("the workload has no pairs".into()));
    }
    tracing::info!(
        "workload: {} programs, {n} pairs, {workers} workers",
        jobs.len()
    );

    let (b, pass_b, timeouts_b) = run_engine(&faithful, &jobs, "faithful", reporter)?;
    drop(faithful);
    let (c, pass_c, _) = run_engine(&engine_for(Mode::Fast)?, &jobs, "fast", reporter)?;

    // (a) on every k-th pair, so the sample has the workload's mix.
    let stride = n.div_ceil(args.baseline_pairs.max(1)).max(1);
    let sample: Vec<Pair> = pairs
        .iter()
        .step_by(stride)
        .map(|p| Pair {
            job: p.job,
            test: p.test,
        })
        .collect();
    let a =
        baselines::process_per_pair(&python, &jobs, &sample, workers, args.timeout_ms, reporter)?;
    let stage = Stage::Bench("paper method".into());
    reporter.start(&stage, 0, 0);
    let e = baselines::paper_method(
        &python,
        &jobs,
        &pairs,
        args.paper_processes.max(1),
        args.timeout_ms,
    )?;
    reporter.finish(&stage);
    let stage = Stage::Bench("plain exec".into());
    reporter.start(&stage, 0, 0);
    let d = baselines::floor(&python, &jobs, &pairs, workers, args.timeout_ms)?;
    reporter.finish(&stage);

    let faithful_pass = |p: &Pair| pass_b[p.job][p.test];
    let agree = |passed: &[bool], over: &[Pair]| {
        over.iter()
            .zip(passed)
            .filter(|(p, &x)| faithful_pass(p) == x)
            .count()
    };
    let fast_agree = pairs
        .iter()
        .filter(|p| pass_c[p.job][p.test] == faithful_pass(p))
        .count();
    let approach = |pairs: usize, seconds: f64, agree: Option<usize>| Approach {
        pairs,
        seconds,
        pairs_per_second: pairs as f64 / seconds.max(1e-9),
        agreement_with_faithful: agree,
    };
    let approaches = Approaches {
        process_per_pair: approach(sample.len(), a.seconds, Some(agree(&a.passed, &sample))),
        faithful: approach(n, b.wall_ms / 1e3, None),
        fast: approach(n, c.wall_ms / 1e3, Some(fast_agree)),
        plain_exec: approach(n, d.seconds, Some(agree(&d.passed, &pairs))),
        paper_method: approach(n, e.seconds, Some(agree(&e.passed, &pairs))),
    };
    let floor_cpu_seconds = d.cpu_seconds.unwrap_or(d.seconds * workers as f64);
    let floor_seconds = floor_cpu_seconds / cores as f64;
    let x = &approaches;
    Ok(ExecBench {
        workload: args.workload,
        description: built.description,
        programs: jobs.len(),
        pairs: n,
        workers,
        cores,
        python,
        passes_faithful: pairs.iter().filter(|p| faithful_pass(p)).count(),
        timeouts_faithful: timeouts_b,
        floor_cpu_seconds,
        floor_seconds,
        faithful_over_floor: x.faithful.seconds / floor_seconds,
        fast_over_floor: x.fast.seconds / floor_seconds,
        faithful_over_process_per_pair: x.faithful.pairs_per_second
            / x.process_per_pair.pairs_per_second,
        faithful_over_paper_method: x.faithful.pairs_per_second / x.paper_method.pairs_per_second,
        approaches,
        faithful_profile: b,
        fast_profile: c,
    })
}

/// Runs every job through `engine` and a fresh store (as `codejury exec`
/// does): the profile, pass per pair, and the number of time-outs.
fn run_engine(
    engine: &Engine,
    jobs: &[Job],
    label: &str,
    reporter: &dyn Reporter,
) -> Result<(RunProfile, Vec<Vec<bool>>, usize)> {
    let dir = tempfile::tempdir().map_err(|e| baseline_error(e.to_string()))?;
    let store = Store::open(&dir.path().join("store.sqlite"))?;
    let runner = CachedRunner::new(engine, &store);
    let stage = Stage::Bench(label.to_string());
    let n: usize = jobs.iter().map(|j| j.tests.len()).sum();
    reporter.start(&stage, n as u64, 0);
    let mut passed: Vec<Vec<bool>> = jobs.iter().map(|j| vec![false; j.tests.len()]).collect();
    let mut timeouts = 0;
    let start = Instant::now();
    let mut profile = runner.run_profiled(
        jobs.to_vec(),
        &mut sinks::from_fn(|o: PairOutcome| {
            passed[o.job][o.test] = o.verdict.passed();
            timeouts += usize::from(o.verdict == codejury_core::Verdict::Timeout);
            reporter.advance(&stage, 1);
            Ok::<_, CacheError>(true)
        }),
    )?;
    profile.wall_ms = start.elapsed().as_secs_f64() * 1e3;
    reporter.finish(&stage);
    Ok((profile, passed, timeouts))
}
