//! `bench exec`: the engine against its baselines on one fixed, real
//! workload, all measured in the same run.
//!
//! Workload: HumanEval+ canonical solutions and the 5-model HumanEval
//! samples, each against its task's HumanEval+ base inputs turned into
//! single `assert f(*args) == expected` tests (expected from the canonical
//! solution). Approaches:
//! (a) a fresh `python3` process per pair (how the CodeRM harness's peers
//!     run; the real interpreter binary, not a version-manager shim);
//! (b) the engine, faithful mode (a fork per pair, full isolation);
//! (c) the engine, fast mode (a fork per solution);
//! (d) the floor: plain `exec` of every pair in one Python process per
//!     worker, no isolation at all.

use crate::config::EngineSettings;
use crate::error::{config, Error, Result};
use crate::reporter::{Reporter, Stage};
use codejury_bench::{read_samples, Benchmark, Dataset, GroundTruth};
use codejury_core::{TestCase, Verdict};
use codejury_python::formats::ASSERT;
use codejury_python::PythonToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, Job, Limits, Mode, SandboxError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BENCH_TESTS: &str = include_str!("py/bench_tests.py");
const BENCH_FLOOR: &str = include_str!("py/bench_floor.py");

/// Settings of `bench exec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecBenchConfig {
    /// HumanEval+ file (`None`: `$CODEJURY_DATA_DIR`, the cache, or fetched).
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// The 5-model samples (`None`: under `$CODEJURY_DATA_DIR`).
    #[serde(default)]
    pub samples: Option<PathBuf>,
    /// Pairs run for baseline (a), a fixed prefix of the workload.
    pub baseline_pairs: usize,
    /// Wall-clock limit per pair, in milliseconds.
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

/// The four approaches.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Approaches {
    /// (a) a fresh interpreter per pair.
    pub process_per_pair: Approach,
    /// (b) the engine, a fork per pair.
    pub faithful: Approach,
    /// (c) the engine, a fork per candidate.
    pub fast: Approach,
    /// (d) plain `exec`, no isolation.
    pub floor: Approach,
}

/// The result of `bench exec`.
#[derive(Debug, Clone, Serialize)]
pub struct ExecBench {
    /// Programs in the workload.
    pub programs: usize,
    /// Pairs in the workload.
    pub pairs: usize,
    /// Parallel workers.
    pub workers: usize,
    /// The interpreter.
    pub python: PathBuf,
    /// Pairs faithful mode passes.
    pub passes_faithful: usize,
    /// Each approach.
    pub approaches: Approaches,
    /// (b) / (a).
    pub faithful_over_process_per_pair: f64,
    /// (c) / (a).
    pub fast_over_process_per_pair: f64,
    /// (d) / (c).
    pub floor_over_fast: f64,
}

struct Pair {
    job: usize,
    test: usize,
}

/// Runs `bench exec`.
pub fn exec(args: &ExecBenchConfig, reporter: &dyn Reporter) -> Result<ExecBench> {
    let data = Dataset::load(Benchmark::HumanEvalPlus, args.data.as_deref())?;
    let samples_path = match &args.samples {
        Some(p) => p.clone(),
        None => match std::env::var_os("CODEJURY_DATA_DIR") {
            Some(d) => Path::new(&d).join("samples/humaneval-5models-solutions.jsonl"),
            None => {
                return Err(config(
                    "pass --samples (the 5-model HumanEval samples) or set CODEJURY_DATA_DIR",
                ))
            }
        },
    };
    let samples = read_samples(&samples_path)?;
    let workers = args.engine.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
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

    // Build the tests from the canonical solutions, in the sandbox.
    let faithful = engine_for(Mode::Faithful)?;
    let mut prep = Vec::new();
    for bp in &data.problems {
        let GroundTruth::EvalPlus { base_input, .. } = &bp.truth else {
            continue;
        };
        let spec = serde_json::json!({"entry_point": bp.problem.entry_point, "inputs": base_input})
            .to_string();
        prep.push(Job {
            candidate: bp.canonical.clone().unwrap_or_default(),
            entry_point: Some(bp.problem.entry_point.clone()),
            prelude: None,
            tests: vec![TestCase {
                format: ASSERT,
                code: BENCH_TESTS.into(),
                data: Some(spec),
            }],
            limits: Limits::default().with_time_ms(60_000),
        });
    }
    let mut tests: Vec<Vec<String>> = vec![Vec::new(); prep.len()];
    faithful.run(
        prep,
        &mut sinks::from_fn(|o: codejury_sandbox::PairOutcome| {
            if let (Verdict::Pass, Some(v)) = (o.verdict, o.value) {
                tests[o.job] = serde_json::from_str(&v).unwrap_or_default();
            }
            Ok::<_, SandboxError>(true)
        }),
    )?;

    // Programs: canonical solutions, then the samples.
    let mut jobs = Vec::new();
    for (i, bp) in data.problems.iter().enumerate() {
        jobs.push((i, bp.canonical.clone().unwrap_or_default()));
    }
    for s in &samples {
        let Some(task) = data.position(&s.task_id) else {
            continue;
        };
        let program = data.problems[task]
            .problem
            .program(s.solution.as_deref(), s.completion.as_deref())
            .unwrap_or_default();
        jobs.push((task, program));
    }
    let engine_jobs: Vec<Job> = jobs
        .iter()
        .map(|(task, program)| Job {
            candidate: program.clone(),
            entry_point: Some(data.problems[*task].problem.entry_point.clone()),
            prelude: None,
            tests: tests[*task]
                .iter()
                .map(|t| TestCase::new(ASSERT, t.clone()))
                .collect(),
            limits,
        })
        .collect();
    let pairs: Vec<Pair> = engine_jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.tests.len()).map(move |t| Pair { job: j, test: t }))
        .collect();
    let n = pairs.len();
    tracing::info!(
        "workload: {} programs, {n} pairs, {workers} workers",
        engine_jobs.len()
    );

    let run_engine = |engine: &Engine, label: &str| -> Result<(f64, Vec<Vec<bool>>)> {
        let stage = Stage::Bench(label.to_string());
        reporter.start(&stage, n as u64, 0);
        let mut passed: Vec<Vec<bool>> = engine_jobs
            .iter()
            .map(|j| vec![false; j.tests.len()])
            .collect();
        let start = Instant::now();
        engine.run(
            engine_jobs.clone(),
            &mut sinks::from_fn(|o: codejury_sandbox::PairOutcome| {
                passed[o.job][o.test] = o.verdict.passed();
                reporter.advance(&stage, 1);
                Ok::<_, SandboxError>(true)
            }),
        )?;
        reporter.finish(&stage);
        Ok((start.elapsed().as_secs_f64(), passed))
    };
    let (secs_b, pass_b) = run_engine(&faithful, "faithful")?;
    drop(faithful);
    let (secs_c, pass_c) = run_engine(&engine_for(Mode::Fast)?, "fast")?;

    // (a) a fresh interpreter per pair, on a fixed prefix of the workload.
    let prefix = &pairs[..args.baseline_pairs.min(n)];

    let (secs_a, pass_a) = fresh_process_per_pair(
        &python,
        &engine_jobs,
        prefix,
        workers,
        args.timeout_ms,
        reporter,
    )?;

    // (d) the floor.
    let (secs_d, pass_d) = floor(&python, &engine_jobs, &pairs, workers, args.timeout_ms)?;

    let rate = |count: usize, secs: f64| count as f64 / secs.max(1e-9);
    let (ra, rb, rc, rd) = (
        rate(prefix.len(), secs_a),
        rate(n, secs_b),
        rate(n, secs_c),
        rate(n, secs_d),
    );
    let agree = |x: &[Vec<bool>], y: &dyn Fn(usize) -> bool, over: &[Pair]| {
        over.iter()
            .enumerate()
            .filter(|(i, p)| x[p.job][p.test] == y(*i))
            .count()
    };
    let fast_agree = agree(&pass_b, &|i| pass_c[pairs[i].job][pairs[i].test], &pairs);
    let a_agree = agree(&pass_b, &|i| pass_a[i], prefix);
    let d_agree = agree(&pass_b, &|i| pass_d[i], &pairs);
    let passes_b = pairs.iter().filter(|p| pass_b[p.job][p.test]).count();
    let approach = |pairs: usize, seconds: f64, agree: Option<usize>| Approach {
        pairs,
        seconds,
        pairs_per_second: rate(pairs, seconds),
        agreement_with_faithful: agree,
    };
    Ok(ExecBench {
        programs: engine_jobs.len(),
        pairs: n,
        workers,
        python,
        passes_faithful: passes_b,
        approaches: Approaches {
            process_per_pair: approach(prefix.len(), secs_a, Some(a_agree)),
            faithful: approach(n, secs_b, None),
            fast: approach(n, secs_c, Some(fast_agree)),
            floor: approach(n, secs_d, Some(d_agree)),
        },
        faithful_over_process_per_pair: rb / ra,
        fast_over_process_per_pair: rc / ra,
        floor_over_fast: rd / rc,
    })
}

/// Runs each pair as `python -c program`, `workers` at a time; a pair passes
/// iff the process exits 0 within the limit.
fn fresh_process_per_pair(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    workers: usize,
    timeout_ms: u64,
    reporter: &dyn Reporter,
) -> Result<(f64, Vec<bool>)> {
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<bool>> = (0..pairs.len())
        .map(|_| std::sync::Mutex::new(false))
        .collect();
    let stage = Stage::Bench("process/pair".into());
    reporter.start(&stage, pairs.len() as u64, 0);
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..workers {
            handles.push(s.spawn(|| -> Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pairs.len() {
                        return Ok(());
                    }
                    let mut child = Command::new(python)
                        .arg("-c")
                        .arg({
                            let p = &pairs[i];
                            format!(
                                "{}\n{}\n",
                                jobs[p.job].candidate, jobs[p.job].tests[p.test].code
                            )
                        })
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .map_err(|e| baseline(format!("cannot start {}: {e}", python.display())))?;
                    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
                    let ok = loop {
                        if let Some(status) =
                            child.try_wait().map_err(|e| baseline(e.to_string()))?
                        {
                            break status.success();
                        }
                        if Instant::now() > deadline {
                            let _ = child.kill();
                            let _ = child.wait();
                            break false;
                        }
                        std::thread::sleep(Duration::from_micros(500));
                    };
                    if let Ok(mut r) = results[i].lock() {
                        *r = ok;
                    }
                    reporter.advance(&stage, 1);
                }
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| baseline("a baseline thread panicked".into()))??;
        }
        Ok(())
    })?;
    reporter.finish(&stage);
    let secs = start.elapsed().as_secs_f64();
    Ok((
        secs,
        results
            .into_iter()
            .map(|m| m.into_inner().unwrap_or(false))
            .collect(),
    ))
}

/// Runs all pairs with plain `exec`, split over `workers` Python processes.
fn floor(
    python: &Path,
    jobs: &[Job],
    pairs: &[Pair],
    workers: usize,
    timeout_ms: u64,
) -> Result<(f64, Vec<bool>)> {
    let io = |e: std::io::Error| baseline(e.to_string());
    let dir = tempfile::tempdir().map_err(io)?;
    let script = dir.path().join("floor.py");
    std::fs::write(&script, BENCH_FLOOR).map_err(io)?;
    let mut shards = Vec::new();
    for w in 0..workers {
        let shard: Vec<(String, String)> = pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % workers == w)
            .map(|(_, p)| {
                (
                    jobs[p.job].candidate.clone(),
                    jobs[p.job].tests[p.test].code.clone(),
                )
            })
            .collect();
        let path = dir.path().join(format!("shard{w}.json"));
        let bytes = serde_json::to_vec(&shard).map_err(|e| baseline(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(io)?;
        shards.push(path);
    }
    let start = Instant::now();
    let children: Vec<_> = shards
        .iter()
        .map(|p| {
            Command::new(python)
                .arg(&script)
                .arg(p)
                .arg(format!("{}", timeout_ms as f64 / 1000.0))
                .arg(p.with_extension("out"))
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
        })
        .collect::<std::io::Result<_>>()
        .map_err(io)?;
    let mut per_shard = Vec::new();
    for mut c in children {
        c.wait().map_err(io)?;
    }
    let secs = start.elapsed().as_secs_f64();
    for p in &shards {
        let out = std::fs::read(p.with_extension("out"))
            .map_err(|e| baseline(format!("the floor script wrote no results: {e}")))?;
        let v: Vec<bool> = serde_json::from_slice(&out)
            .map_err(|e| baseline(format!("the floor script failed: {e}")))?;
        per_shard.push(v);
    }
    let mut out = vec![false; pairs.len()];
    let mut cursors = vec![0usize; workers];
    for (i, slot) in out.iter_mut().enumerate() {
        let w = i % workers;
        *slot = per_shard[w].get(cursors[w]).copied().unwrap_or(false);
        cursors[w] += 1;
    }
    Ok((secs, out))
}

fn baseline(message: String) -> Error {
    Error::Baseline {
        what: "bench exec baseline".into(),
        message,
    }
}
