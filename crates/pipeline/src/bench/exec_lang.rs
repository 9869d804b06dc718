//! `bench exec --lang L`: a process language's engine against one build
//! and one process per pair, on a slice of MBXP, measured in the same run.
//!
//! The workload: the first `tasks` MBXP tasks of the language; each task's
//! candidates are mxeval's published sample and the canonical solution
//! (where the task has one); its tests are the single checks its test
//! program splits into. Approaches, on the same pairs:
//! (a) one build and one process per pair, in the sandbox (how mxeval, a
//!     per-pair harness or a per-request service runs a compiled language);
//! (b) codejury: each candidate built once with all of its tests, each
//!     test its own process chosen at run time;
//! (c) codejury's fast mode, for the script languages (Ruby, Perl, PHP):
//!     the interpreter starts once per worker and forks a child per pair.
//! The floor: building and running the same programs the bare way,
//! outside any sandbox, with the same commands.

use crate::config::EngineSettings;
use crate::error::{Error, Result};
use crate::reporter::{Reporter, Stage};
use codejury_bench::{read_samples, Benchmark, Dataset, GroundTruth};
use codejury_core::{Lang, TestCase, TestFormat, Verdict};
use codejury_langs::split::single_checks;
use codejury_langs::ExecToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, Job, Limits, PairOutcome, Toolchain};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Settings of `bench exec --lang`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangBenchConfig {
    /// The language.
    pub lang: Lang,
    /// The first K MBXP tasks.
    pub tasks: usize,
    /// The MBXP file (`None`: `$CODEJURY_DATA_DIR`, the cache, or fetched).
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// mxeval's samples (`None`: under `$CODEJURY_DATA_DIR`).
    #[serde(default)]
    pub samples: Option<PathBuf>,
    /// CPU time per pair, in milliseconds.
    pub timeout_ms: u64,
    /// Programs built and run the bare way for the floor.
    pub floor_programs: usize,
    /// The sandbox.
    #[serde(default)]
    pub engine: EngineSettings,
}

/// One approach's measurement.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LangApproach {
    /// Pairs run.
    pub pairs: usize,
    /// Builds run.
    pub builds: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// Pairs per second.
    pub pairs_per_second: f64,
}

/// What `bench exec --lang` measured.
#[derive(Debug, Clone, Serialize)]
pub struct LangBench {
    /// The language.
    pub lang: Lang,
    /// Tasks in the slice.
    pub tasks: usize,
    /// Candidates (samples and canonical solutions).
    pub candidates: usize,
    /// Single checks over all tasks.
    pub checks: usize,
    /// Workers and cores.
    pub workers: usize,
    /// Cores of this machine.
    pub cores: usize,
    /// (a) one build and one process per pair.
    pub per_pair: LangApproach,
    /// (b) codejury: one build per candidate, one process per pair.
    pub built_once: LangApproach,
    /// Pairs where (a) and (b) agree on pass/fail.
    pub agreement: usize,
    /// (b)'s median wall milliseconds of one build (the first pair of a
    /// candidate, less one run).
    pub build_ms: f64,
    /// (b)'s median wall milliseconds of one more test on a built
    /// candidate.
    pub marginal_ms: f64,
    /// The bare compiler's mean wall milliseconds on the same kind of
    /// program (candidate and its whole test), outside the sandbox.
    pub bare_build_ms: f64,
    /// The bare program's mean wall milliseconds per run, outside the
    /// sandbox: the floor of one more test.
    pub bare_run_ms: f64,
    /// (c) fast mode's warm interpreter, where the language has one.
    pub warm: Option<WarmApproach>,
}

/// (c): a warm interpreter per worker forking a child per pair.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WarmApproach {
    /// Its throughput.
    pub approach: LangApproach,
    /// Pairs where it and (a) agree on pass/fail.
    pub agreement: usize,
    /// Its median wall milliseconds per pair: the marginal cost of one
    /// more test.
    pub marginal_ms: f64,
}

/// Runs the measurement.
pub fn exec_lang(config: &LangBenchConfig, reporter: &dyn Reporter) -> Result<LangBench> {
    let lang = config.lang;
    let bench = Benchmark::Mbxp(lang);
    let data = Dataset::load(bench, config.data.as_deref())?;
    let samples_path = match &config.samples {
        Some(p) => p.clone(),
        None => {
            // mbjsp_release_v1.2.jsonl's samples are mbjsp_samples.jsonl.gz.
            let name = bench.data_file().name;
            let stem = name
                .rsplit('/')
                .next()
                .and_then(|f| f.split('_').next())
                .unwrap_or_default()
                .to_string();
            super::data_file(
                &None,
                &format!("mxeval/mbxp/samples/{stem}_samples.jsonl.gz"),
                "--samples",
            )?
        }
    };
    let samples = read_samples(&samples_path)?;
    let limits = Limits::default().with_time_ms(config.timeout_ms);
    let mut jobs = Vec::new();
    let mut checks = 0;
    let mut floor_programs = Vec::new();
    for p in data.problems.iter().take(config.tasks) {
        let GroundTruth::Program { test } = &p.truth else {
            continue;
        };
        let pieces =
            single_checks(lang, test, &p.problem.entry_point).unwrap_or_else(|| vec![test.clone()]);
        checks += pieces.len();
        let sample = samples
            .iter()
            .find(|s| s.task_id == p.problem.task_id)
            .and_then(|s| s.completion.clone())
            .map(|c| format!("{}{c}", p.problem.prompt));
        for program in sample.into_iter().chain(p.canonical.clone()) {
            if floor_programs.len() < config.floor_programs {
                floor_programs.push(format!("{program}\n{test}"));
            }
            jobs.push(Job {
                candidate: program,
                entry_point: Some(p.problem.entry_point.clone()),
                prelude: None,
                tests: pieces
                    .iter()
                    .map(|t| TestCase::new(TestFormat::PROGRAM, t.clone()))
                    .collect(),
                limits,
            });
        }
    }
    let pairs: usize = jobs.iter().map(|j| j.tests.len()).sum();
    let toolchain = ExecToolchain::resolve(lang, &codejury_bench::fetch::cache_dir())?;
    let mut engine_config = EngineConfig::default();
    if let Some(w) = config.engine.workers {
        engine_config.workers = w.max(1);
    }
    let workers = engine_config.workers;
    let run = |name: &str, toolchain: Arc<dyn Toolchain>| -> Result<(Vec<Vec<PairOutcome>>, f64)> {
        let stage = Stage::Bench(name.to_string());
        reporter.start(&stage, 0, 0);
        let engine = Engine::new(engine_config.clone(), toolchain)?;
        let started = Instant::now();
        let mut out = sinks::Collect::<codejury_sandbox::SandboxError>::new(jobs.len());
        engine.run(jobs.clone(), &mut out)?;
        let seconds = started.elapsed().as_secs_f64();
        reporter.finish(&stage);
        let mut by_job = out.by_job;
        for v in &mut by_job {
            v.sort_by_key(|o| o.test);
        }
        Ok((by_job, seconds))
    };
    let builds_once = toolchain.builds_once();
    let (once, once_s) = run("built once", Arc::new(toolchain.clone()))?;
    let (each, each_s) = if builds_once {
        run("one build per pair", Arc::new(toolchain.clone().per_pair()))?
    } else {
        (once.clone(), once_s)
    };
    let agree = |x: &[Vec<PairOutcome>]| {
        x.iter()
            .flatten()
            .zip(each.iter().flatten())
            .filter(|(a, b)| (a.verdict == Verdict::Pass) == (b.verdict == Verdict::Pass))
            .count()
    };
    let agreement = agree(&once);
    let warm = if toolchain.can_warm() {
        let (warm, warm_s) = run("warm interpreter", Arc::new(toolchain.clone().warm()))?;
        let mut walls: Vec<f64> = warm.iter().flatten().map(|o| o.wall_ms).collect();
        Some((agree(&warm), warm_s, median(&mut walls)))
    } else {
        None
    };
    // A built candidate's later pairs are runs alone; its first pair also
    // carries the build. Medians: a few pairs that time out at the wall
    // backstop would make a mean say nothing about a typical pair.
    // Pairs of a candidate that did not build never ran: they are not runs.
    let mut later: Vec<f64> = once
        .iter()
        .flat_map(|v| v.iter().skip(1))
        .filter(|o| !o.message.contains("does not build"))
        .map(|o| o.wall_ms)
        .collect();
    let marginal_ms = median(&mut later);
    let mut firsts: Vec<f64> = once
        .iter()
        .filter_map(|v| v.first().map(|o| o.wall_ms))
        .collect();
    let build_ms = if builds_once {
        (median(&mut firsts) - marginal_ms).max(0.0)
    } else {
        0.0
    };
    let stage = Stage::Bench("bare floor".into());
    reporter.start(&stage, floor_programs.len() as u64, 0);
    let (mut bare_build, mut bare_run, mut counted) = (0.0, 0.0, 0usize);
    for program in &floor_programs {
        // A program that does not build is no floor; it is skipped.
        if let Ok(t) = toolchain.bare(program, 3) {
            bare_build += t.build_seconds;
            bare_run += t.run_seconds;
            counted += 1;
        }
        reporter.advance(&stage, 1);
    }
    reporter.finish(&stage);
    if counted == 0 && !floor_programs.is_empty() {
        return Err(Error::Baseline {
            what: "the bare floor".into(),
            message: "no program of the slice built outside the sandbox".into(),
        });
    }
    let approach = |seconds: f64, builds: usize| LangApproach {
        pairs,
        builds,
        seconds,
        pairs_per_second: pairs as f64 / seconds.max(1e-9),
    };
    Ok(LangBench {
        lang,
        tasks: config.tasks.min(data.problems.len()),
        candidates: jobs.len(),
        checks,
        workers,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        per_pair: approach(each_s, if builds_once { pairs } else { 0 }),
        built_once: approach(once_s, if builds_once { jobs.len() } else { 0 }),
        agreement,
        build_ms,
        marginal_ms,
        bare_build_ms: 1e3 * bare_build / counted.max(1) as f64,
        bare_run_ms: 1e3 * bare_run / counted.max(1) as f64,
        warm: warm.map(|(agreement, seconds, marginal_ms)| WarmApproach {
            approach: approach(seconds, 0),
            agreement,
            marginal_ms,
        }),
    })
}

/// The median of `xs` (0 for none); sorts them.
fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}
